// S3 direct uploads on the simulated site, when switched on: upload links, parts and completion, the storage PUTs (with ETags), and api_link_file attaching the stored bytes.
//
// A hosted site with `s3_direct_uploads_enabled` hands out presigned S3 URLs: the client PUTs the file there (in 20 MB
// parts above that size: api_get_upload_link_for_part, api_complete_multipart_upload with the parts' ETags) and then
// posts api_link_file with the text it was given. The sim's "bucket" is its own path `/s3-sim/<upload id>[/part/<n>]`,
// so through the cache the bytes still go straight to storage, as with S3; only the small forms pass the cache.
// `info` reports the switch and `s3_enabled_upload_types` (default {}: the client then sends Version.sg_uploaded_movie
// this way and everything else to the legacy forms, as it does against a hosted site reporting none).
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ShotgunFault } from '../../shared/site/index.js';
import type { SiteAuth } from './auth.js';
import { parseForm } from './form-data.js';
import { authOf, isTrue, send, target, type SimUploads } from './uploads.js';

export const S3UploadSettingsSchema = z
  .object({
    /** Report s3_uploads_enabled / s3_direct_uploads_enabled and serve the direct-upload flow. */
    enabled: z.boolean(),
    /** info's s3_enabled_upload_types ({"Version": ["sg_uploaded_movie"], "Attachment": "*", "*": [...]}). */
    uploadTypes: z.record(z.string(), z.union([z.literal('*'), z.array(z.string())])).optional(),
  })
  .strict();
export type S3UploadSettings = z.infer<typeof S3UploadSettingsSchema>;

export const STORAGE_PREFIX = '/s3-sim/';
const FORMS = new Set([
  '/upload/api_get_upload_link_info',
  '/upload/api_get_upload_link_for_part',
  '/upload/api_complete_multipart_upload',
  '/upload/api_link_file',
]);

/** The fields `info` reports for these settings. */
export function s3UploadInfo(settings: S3UploadSettings): Record<string, unknown> {
  return { s3_uploads_enabled: settings.enabled, s3_direct_uploads_enabled: settings.enabled, s3_enabled_upload_types: settings.uploadTypes ?? {} };
}

interface Pending {
  filename: string;
  uploadType: string;
  whole?: Buffer;
  parts: Map<number, Buffer>;
  contentType: string;
}

export class S3Uploads {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly settings: S3UploadSettings,
    private readonly auth: SiteAuth,
    private readonly uploads: SimUploads,
    private readonly origin: () => string,
  ) {}

  handles(path: string): boolean {
    return this.settings.enabled && (FORMS.has(path) || path.startsWith(STORAGE_PREFIX));
  }

  handleHttp(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    if (path.startsWith(STORAGE_PREFIX)) return this.store(req, res, path, body);
    if (req.method !== 'POST') return send(res, 405, 'text/plain', Buffer.from('Method Not Allowed'));
    const form = parseForm(req.headers['content-type'], body);
    let text: string;
    try {
      const actor = this.auth.authenticate(authOf(form));
      const f = form.fields;
      switch (path) {
        case '/upload/api_get_upload_link_info': {
          if (!f.filename) throw new ShotgunFault('filename is required');
          const id = randomBytes(12).toString('hex');
          const uploadType = f.upload_type === 'Thumbnail' ? 'Thumbnail' : 'Attachment';
          this.pending.set(id, { filename: f.filename, uploadType, parts: new Map(), contentType: 'application/octet-stream' });
          text = `1\n${this.origin()}${STORAGE_PREFIX}${id}\n${new Date().toISOString()}\n${uploadType}\n${id}\n`;
          break;
        }
        case '/upload/api_get_upload_link_for_part': {
          const n = Number(f.part_number);
          if (!this.pending.has(f.upload_id ?? '') || !Number.isInteger(n) || n < 1) throw new ShotgunFault('unknown upload_id or bad part_number');
          text = `1\n${this.origin()}${STORAGE_PREFIX}${f.upload_id}/part/${n}\n`;
          break;
        }
        case '/upload/api_complete_multipart_upload': {
          const p = this.pending.get(f.upload_id ?? '');
          if (!p || p.parts.size === 0) throw new ShotgunFault('unknown upload_id, or no parts uploaded');
          const order = [...p.parts.keys()].sort((a, b) => a - b);
          const tags = (f.etags ?? '').split(',');
          if (tags.length !== order.length || order.some((k, i) => tags[i] !== etag(p.parts.get(k)!)))
            throw new ShotgunFault('the etags do not match the uploaded parts');
          p.whole = Buffer.concat(order.map((k) => p.parts.get(k)!));
          text = '1\n';
          break;
        }
        default: {
          // api_link_file
          const lines = (f.upload_link_info ?? '').split('\n');
          const p = this.pending.get(lines[4] ?? '');
          if (!p?.whole) throw new ShotgunFault('the upload was not found or not finished');
          const file = { filename: p.filename, contentType: p.contentType, data: p.whole };
          const id =
            p.uploadType === 'Thumbnail'
              ? this.uploads.attachThumbnail(actor, target(form), isTrue(f.filmstrip), file)
              : this.uploads.attachFile(actor, target(form), f.field_name, f.display_name, file);
          this.pending.delete(lines[4]);
          text = `1:${id}\n`;
        }
      }
    } catch (e) {
      text = `0:${e instanceof Error ? e.message : String(e)}`;
    }
    send(res, 200, 'text/plain; charset=utf-8', Buffer.from(text));
  }

  /** PUT of a whole file or one part: kept until completed and linked; answers with its ETag as S3 does. */
  private store(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const [id, part, n] = path.slice(STORAGE_PREFIX.length).split('/');
    const p = this.pending.get(id);
    if (req.method !== 'PUT' || !p || (part !== undefined && (part !== 'part' || !Number.isInteger(Number(n))))) {
      return send(
        res,
        403,
        'application/xml',
        Buffer.from('<Error><Code>AccessDenied</Code><Message>Request has expired or is not signed for this</Message></Error>'),
      );
    }
    p.contentType = String(req.headers['content-type'] ?? p.contentType);
    if (part === undefined) p.whole = body;
    else p.parts.set(Number(n), body);
    res.writeHead(200, { etag: etag(body), 'content-length': 0 });
    res.end();
  }
}

function etag(b: Buffer): string {
  return `"${createHash('md5').update(b).digest('hex')}"`;
}
