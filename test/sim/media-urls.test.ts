// The simulated site's media URLs: signed at read time (S3 presigned, SigV4 style) on the virtual signing clock, re-signed per window, the placeholder of a thumbnail not processed yet, plain when asked.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimSite } from '../../local/sim/server.js';
import { MEDIA_ORIGIN, PENDING_PATH } from '../../local/sim/media-urls.js';
import { expiresAt, objectOf } from '../../shared/site/index.js';
import type { TestShotgun } from '../support/api3-client.js';
import { lastEventId, scriptClient, startTestSite, EVENT_FIELDS } from '../support/sim-site.js';

const T0 = Date.parse('2026-03-04T10:07:00Z');
let site: SimSite;
let sg: TestShotgun;
const post = (body: unknown) => fetch(`${site.url}/__sim/control`, { method: 'POST', body: JSON.stringify(body) });

beforeAll(async () => {
  site = await startTestSite({ mediaNow: () => new Date(T0) });
  sg = await scriptClient(site);
});
afterAll(async () => {
  await site.close();
});
beforeEach(() => {
  site.control.reset();
});

const firstShot = async () =>
  (await sg.find('Shot', [['image', 'is_not', null]], ['image', 'sg_uploaded_movie'], [{ column: 'id', direction: 'asc' }], { limit: 1 }))[0] as {
    id: number;
    image: string;
  };

describe('media URLs', () => {
  it('are signed at read time for expiresS, dated at the start of the signing window', async () => {
    const { image } = await firstShot();
    expect(objectOf(image)).toMatch(new RegExp(`^${MEDIA_ORIGIN.replace(/\./g, '\\.')}/thumbnail/shot/\\d+\\.jpg$`));
    const q = new URL(image).searchParams;
    expect(Object.fromEntries(q)).toMatchObject({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Date': '20260304T100000Z',
      'X-Amz-Expires': '3600',
      'X-Amz-SignedHeaders': 'host',
    });
    expect(q.get('X-Amz-Credential')).toBe('AKIASIMULATEDMEDIA00/20260304/us-west-2/s3/aws4_request');
    expect(expiresAt(image)).toBe(Date.parse('2026-03-04T11:00:00Z'));
  });

  it('the virtual clock (POST /__sim/control {"media": {"advanceS"}}) brings a new signature for the same object in the next window', async () => {
    const before = (await firstShot()).image;
    expect((await post({ media: { advanceS: 300 } })).status).toBe(200);
    expect((await firstShot()).image).toBe(before);
    await post({ media: { advanceS: 300 } });
    const after = (await firstShot()).image;
    expect(after).not.toBe(before);
    expect(objectOf(after)).toBe(objectOf(before));
    expect(new URL(after).searchParams.get('X-Amz-Date')).toBe('20260304T101500Z');
    expect((site.control.stats().knobs as { media: { clock: string } }).media.clock).toBe('2026-03-04T10:17:00.000Z');
    site.control.reset();
    expect((await firstShot()).image).toBe(before);
  });

  it("expiry and window are knobs; a pending thumbnail reads as the site's transient placeholder; signed: false gives plain URLs", async () => {
    const shot = await firstShot();
    await post({ media: { expiresS: 900, windowS: 60 } });
    const short = (await firstShot()).image;
    expect(new URL(short).searchParams.get('X-Amz-Expires')).toBe('900');
    expect(new URL(short).searchParams.get('X-Amz-Date')).toBe('20260304T100700Z');
    await post({ media: { pending: [objectOf(shot.image)] } });
    expect((await firstShot()).image).toBe(`${site.url}${PENDING_PATH}`);
    await post({ media: { pending: [], signed: false } });
    expect((await firstShot()).image).toBe(objectOf(shot.image));
    expect((await post({ media: { expiresS: 0 } })).status).toBe(400);
  });

  it('write replies carry signed URLs too; the event log keeps the stored value', async () => {
    const shot = await firstShot();
    const last = await lastEventId(sg);
    const fresh = `${MEDIA_ORIGIN}/thumbnail/shot/${shot.id}-new.jpg`;
    const updated = (await sg.call('update', { type: 'Shot', id: shot.id, fields: [{ field_name: 'image', value: fresh }] })) as { image: string };
    expect(objectOf(updated.image)).toBe(fresh);
    expect(updated.image).toContain('X-Amz-Signature=');
    const events = await sg.find('EventLogEntry', [['id', 'greater_than', last]], EVENT_FIELDS);
    expect(events.map((e) => (e.meta as { new_value?: unknown }).new_value)).toContain(fresh);
  });
});
