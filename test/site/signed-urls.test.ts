// Reading the site's volatile values (shared/site/signed-urls.ts): expiry from the URL itself (SigV4 and SigV2), the placeholder, and when a relayed value may renew a stored one.
import { describe, expect, it } from 'vitest';
import { expiresAt, isPlaceholder, isSignedUrl, objectOf, renews, servableUntil, volatileVerdict, withoutSignatures } from '../../shared/site/index.js';

const V4 = (object: string, date: string, expires = 3600) =>
  `${object}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=${date}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=00ff`;
const A = 'https://sg-media-usor-01.s3.amazonaws.com/abc/def/IMG.jpg';

describe('signed URLs', () => {
  it('expire at X-Amz-Date + X-Amz-Expires (SigV4) or Expires (SigV2); an unreadable one counts as expired', () => {
    expect(expiresAt(V4(A, '20260101T100000Z'))).toBe(Date.parse('2026-01-01T11:00:00Z'));
    const v2 = `${A}?AWSAccessKeyId=AKIA&Expires=1371789959&Signature=SLbz%3D`;
    expect(isSignedUrl(v2)).toBe(true);
    expect(expiresAt(v2)).toBe(1371789959_000);
    expect(Number.isNaN(expiresAt(`${A}?X-Amz-Date=nonsense&X-Amz-Expires=60&X-Amz-Signature=1`))).toBe(true);
    expect(volatileVerdict({ image: `${A}?X-Amz-Signature=1` }, 0, 0)).toBe('signed-url-expiring');
    expect(objectOf(V4(A, '20260101T100000Z'))).toBe(A);
    expect(isSignedUrl(A)).toBe(false);
  });

  it('an answer is servable until its earliest signature is inside the margin; never with the placeholder', () => {
    const now = Date.parse('2026-01-01T10:30:00Z');
    const answer = { entities: [{ image: V4(A, '20260101T100000Z') }, { movie: { url: V4(`${A}.mov`, '20260101T094500Z'), name: 'm' } }] };
    expect(servableUntil(answer, 600_000)).toBe(Date.parse('2026-01-01T10:35:00Z'));
    expect(volatileVerdict(answer, now, 600_000)).toBeUndefined();
    expect(volatileVerdict(answer, now + 300_001, 600_000)).toBe('signed-url-expiring');
    const pending = 'https://studio.shotgrid.autodesk.com/images/status/transient/thumbnail_pending.png';
    expect(isPlaceholder(pending)).toBe(true);
    expect(isPlaceholder('https://x.example.com/thumbs/images/status/transient/x.png')).toBe(false);
    expect(volatileVerdict({ image: pending }, now, 0)).toBe('thumbnail-pending');
    expect(servableUntil({ image: pending }, 0)).toBe(-Infinity);
    expect(servableUntil({ code: 'plain', image: A }, 600_000)).toBe(Infinity);
  });

  it('a relayed value renews a stored one only for the same objects and a longer validity', () => {
    const old = V4(A, '20260101T100000Z');
    expect(renews(old, V4(A, '20260101T101500Z'))).toBe(true);
    expect(renews(old, V4(A, '20260101T094500Z'))).toBe(false);
    expect(renews(old, V4(`${A}2`, '20260101T101500Z'))).toBe(false);
    expect(renews(old, 'https://site.example.com/images/status/transient/thumbnail_pending.png')).toBe(false);
    expect(renews(A, A)).toBe(false);
    const movie = (url: string, name = 'm.mov') => ({ url, name, link_type: 'upload', content_type: 'video/quicktime' });
    expect(renews(movie(old), movie(V4(A, '20260101T101500Z')))).toBe(true);
    expect(renews(movie(old), movie(V4(A, '20260101T101500Z'), 'other.mov'))).toBe(false);
    expect(withoutSignatures(movie(old))).toEqual(movie(A));
  });
});
