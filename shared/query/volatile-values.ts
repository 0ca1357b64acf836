// Values a cached answer must not carry: signed, expiring URLs (S3 presigned style) inside url values.
import type { CachedSchema } from '../schema/index.js';
import type { ReadParams } from '../site/index.js';

/** The query parameter every S3-presigned (SigV4) URL carries. */
const SIGNATURE_MARK = 'X-Amz-Signature=';

/** Whether a read returns a url field (top level or at the end of a deep path): only then can a reply carry a signature. */
export function returnsUrl(schema: CachedSchema, params: ReadParams): boolean {
  for (const path of params.return_fields ?? []) {
    const parts = path.split('.');
    const type = parts.length >= 3 ? parts[parts.length - 2] : params.type;
    if (schema.site.dataType(type, parts[parts.length - 1]) === 'url') return true;
  }
  return false;
}

/** Whether an answer holds a signed URL (it would expire in the client's hands differently from the site's). */
export function carriesSignature(result: unknown): boolean {
  return JSON.stringify(result).includes(SIGNATURE_MARK);
}
