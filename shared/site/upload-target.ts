// The entities an upload form changes (/upload/publish_thumbnail, upload_file, api_link_file: entity_type + entity_id; share_thumbnail: `entities`), read from the form body without parsing its files.
import type { Link } from './data-types.js';

const TYPE_RE = /^[A-Za-z][A-Za-z0-9_]*$/;

/** A form field's text: urlencoded bodies by URLSearchParams, multipart ones by their part for that name (fields precede files). */
function field(contentType: string, text: string, name: string): string | undefined {
  if (/^multipart\/form-data/i.test(contentType)) {
    const m = new RegExp(`Content-Disposition: form-data; name="${name}"\\r\\n\\r\\n([^\\r]*)\\r\\n`, 'i').exec(text);
    return m ? Buffer.from(m[1], 'latin1').toString('utf8') : undefined;
  }
  return new URLSearchParams(text).get(name) ?? undefined;
}

/** The entities a successful upload form changed (none when it names none, or names them malformed). */
export function uploadTargets(contentType: string | undefined, body: Buffer | undefined): Link[] {
  if (!body || body.length === 0) return [];
  const ct = contentType ?? '';
  const text = body.toString('latin1');
  const out: Link[] = [];
  const type = field(ct, text, 'entity_type');
  const id = Number(field(ct, text, 'entity_id'));
  if (type && TYPE_RE.test(type) && Number.isInteger(id) && id > 0) out.push({ type, id });
  for (const e of (field(ct, text, 'entities') ?? '').split(',')) {
    const m = /^([A-Za-z][A-Za-z0-9_]*)_(\d+)$/.exec(e.trim());
    if (m) out.push({ type: m[1], id: Number(m[2]) });
  }
  return out;
}
