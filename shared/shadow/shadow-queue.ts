// The API's adapter to the verifier: sampled hits onto the shadow queue (standard SQS), and the sampling settings from the environment.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../config.js';
import type { ShadowSample } from './shadow-check.js';

/** Share of hits verified when SHADOW_SAMPLE_RATE is unset (1 %). */
export const DEFAULT_SHADOW_SAMPLE_RATE = 0.01;

export interface ShadowSink {
  submit(sample: ShadowSample): Promise<void>;
}

export class SqsShadowSink implements ShadowSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}
  async submit(sample: ShadowSample): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(sample) }));
  }
}

/** SHADOW_SAMPLE_RATE: a share 0..1 (default 0.01); an invalid value is a configuration error, not a silent default. */
export function shadowRateFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.SHADOW_SAMPLE_RATE?.trim();
  if (!raw) return DEFAULT_SHADOW_SAMPLE_RATE;
  const n = Number(raw.endsWith('%') ? Number(raw.slice(0, -1)) / 100 : raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`SHADOW_SAMPLE_RATE must be a share between 0 and 1 (or a percentage), not "${raw}"`);
  return n;
}
