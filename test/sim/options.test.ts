// simOptionsFromEnv: the environment the CLI and the local stack start the simulated site with.
import { describe, expect, it } from 'vitest';
import { simOptionsFromEnv } from '../../local/sim/server.js';

describe('simOptionsFromEnv', () => {
  it('defaults to port 8020 and the built-in scripts', () => {
    expect(simOptionsFromEnv({})).toEqual({ port: 8020 });
  });

  it('reads every SIM_* variable, DATA_DIR and the script credentials', () => {
    expect(
      simOptionsFromEnv({
        SIM_PORT: '0',
        SIM_LATENCY_MS: '40',
        SIM_JITTER_MS: '10',
        SIM_ENTITIES: '100000',
        SIM_SEED: '7',
        DATA_DIR: '/tmp/x',
        SIM_LEGACY_VERSION: '1',
        SIM_EVENT_DELAY_MS: '2000',
        SIM_EVENT_DELAY_PROBABILITY: '0.25',
        SHOTGUN_SCRIPT_NAME: 'cache',
        SHOTGUN_SCRIPT_KEY: 'secret',
      }),
    ).toEqual({
      port: 0,
      latencyMs: 40,
      jitterMs: 10,
      entities: 100000,
      seed: 7,
      dataDir: '/tmp/x/sim',
      legacyVersion: true,
      eventDelay: { probability: 0.25, delayMs: 2000 },
      scripts: [{ name: 'cache', key: 'secret', generateEvents: true }],
    });
  });

  it('refuses malformed values with the variable named', () => {
    expect(() => simOptionsFromEnv({ SIM_PORT: 'abc' })).toThrow(/SIM_PORT/);
    expect(() => simOptionsFromEnv({ SIM_ENTITIES: '0' })).toThrow(/SIM_ENTITIES/);
    expect(() => simOptionsFromEnv({ SIM_LATENCY_MS: '-5' })).toThrow(/SIM_LATENCY_MS/);
    expect(() => simOptionsFromEnv({ SHOTGUN_SCRIPT_NAME: 'only-name' })).toThrow(/SHOTGUN_SCRIPT_KEY/);
    expect(() => simOptionsFromEnv({ SIM_EVENT_DELAY_MS: '10', SIM_EVENT_DELAY_PROBABILITY: '2' })).toThrow(/PROBABILITY/);
    expect(() => simOptionsFromEnv({ SIM_SEMANTICS: '{nope' })).toThrow(/SIM_SEMANTICS must be a JSON object/);
    expect(() => simOptionsFromEnv({ SIM_SEMANTICS: '{"nullsAsc":"middle"}' })).toThrow(/SIM_SEMANTICS: nullsAsc/);
    expect(() => simOptionsFromEnv({ SIM_MEDIA: '[' })).toThrow(/SIM_MEDIA must be a JSON object/);
    expect(() => simOptionsFromEnv({ SIM_MEDIA: '{"expiresS":0}' })).toThrow(/SIM_MEDIA: expiresS/);
  });

  it('reads SIM_MEDIA (JSON) into the media signing settings', () => {
    expect(simOptionsFromEnv({ SIM_MEDIA: '{"expiresS":900,"windowS":60,"pendingShare":0.1}' })).toEqual({
      port: 8020,
      media: { expiresS: 900, windowS: 60, pendingShare: 0.1 },
    });
  });

  it('reads SIM_SEMANTICS (JSON) into the semantics knobs', () => {
    expect(simOptionsFromEnv({ SIM_SEMANTICS: '{"nullsAsc":"first","textOrder":"code-point"}' })).toEqual({
      port: 8020,
      semantics: { nullsAsc: 'first', textOrder: 'code-point' },
    });
  });
});
