// The sim's file transfers as a hosted site without S3 direct uploads answers them: /upload/publish_thumbnail, /upload/upload_file, /file_serve/attachment/N and the transient thumbnail placeholder.
//
// Forms carry the caller's auth params (script, user password or session token) and are answered in the site's
// plain-text protocol: `1:<attachment id>\n` on success, `0:<why>` otherwise (shotgun_api3 only tests the leading 1).
// A thumbnail is stored as a media object (`https://sg-media-sim.example.com/thumbnail/<type>/<id>/<attachment>.<ext>`)
// and reads as the transient placeholder while it is "processing" (MediaUrls.processing); a file goes into a url
// field as a hosted site's upload link (`<site>/file_serve/attachment/<id>`, link_type "upload"). Downloads need the
// `_session_id` cookie of a valid session as on hosted sites (403 for an invalid one), but are served without one: the
// client sets that cookie for `config.server`, host:port, which http.cookiejar never sends to a URL with a port, so
// against a local sim (or the cache on a port) it cannot send it. 400 for an unknown attachment.
// The bytes are kept in memory (not in the snapshot): a restarted sim serves 400 for earlier uploads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ShotgunFault } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import type { SiteAuth, Actor } from './auth.js';
import type { SiteWrites } from './writes.js';
import { MEDIA_ORIGIN, PENDING_PATH, type MediaUrls } from './media-urls.js';
import { parseForm, type FormBody, type FormFile } from './form-data.js';

/** The placeholder hosted sites show for a thumbnail being processed (a 1x1 grey PNG here). */
const PENDING_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNoaGj4DwAFhAKAjM1mJgAAAABJRU5ErkJggg==', 'base64');
/** Attachment ids the sim hands out start here (above the ids the seed writes into upload links). */
const FIRST_ATTACHMENT_ID = 100_000;
const AUTH_KEYS = ['script_name', 'script_key', 'user_login', 'user_password', 'auth_token', 'session_token', 'sudo_as_login', 'session_uuid'] as const;

export interface StoredFile {
  id: number;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface UploadDeps {
  schema: SiteSchema;
  auth: SiteAuth;
  writes: SiteWrites;
  media: MediaUrls;
  /** The site's own origin (http://host:port), for upload links. */
  origin: () => string;
}

export class SimUploads {
  private readonly files = new Map<number, StoredFile>();
  private nextId = FIRST_ATTACHMENT_ID;

  constructor(private readonly d: UploadDeps) {}

  /** Whether this path is one of the transfer routes the sim serves. */
  handles(path: string): boolean {
    return path.startsWith('/upload/') || path.startsWith('/file_serve/') || path === PENDING_PATH;
  }

  handleHttp(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    if (path === PENDING_PATH) return send(res, 200, 'image/png', PENDING_PNG);
    if (path.startsWith('/file_serve/attachment/')) return this.download(req, res, path);
    if (req.method !== 'POST') return send(res, 405, 'text/plain', Buffer.from('Method Not Allowed'));
    const form = parseForm(req.headers['content-type'], body);
    let text: string;
    try {
      const actor = this.d.auth.authenticate(authOf(form));
      switch (path) {
        case '/upload/publish_thumbnail':
          text = this.thumbnail(actor, form);
          break;
        case '/upload/upload_file':
          text = this.file(actor, form);
          break;
        default:
          return send(res, 404, 'text/html; charset=utf-8', Buffer.from('<h1>Not Found</h1>'));
      }
    } catch (e) {
      text = `0:${e instanceof Error ? e.message : String(e)}`;
    }
    send(res, 200, 'text/plain; charset=utf-8', Buffer.from(text));
  }

  private thumbnail(actor: Actor, form: FormBody): string {
    const file = form.files.thumb_image;
    if (!file || file.data.length === 0) throw new ShotgunFault('no thumb_image file was sent');
    return `1:${this.attachThumbnail(actor, target(form), isTrue(form.fields.filmstrip), file)}\n`;
  }

  private file(actor: Actor, form: FormBody): string {
    const file = form.files.file;
    if (!file || file.data.length === 0) throw new ShotgunFault('no file was sent');
    return `1:${this.attachFile(actor, target(form), form.fields.field_name, form.fields.display_name, file)}\n`;
  }

  /** Stores a thumbnail (or filmstrip) for the entity: it reads as the placeholder while processing. Returns the attachment id. */
  attachThumbnail(actor: Actor, at: { type: string; id: number }, filmstrip: boolean, file: FormFile): number {
    const field = filmstrip ? 'filmstrip_image' : 'image';
    if (this.d.schema.dataType(at.type, field) !== 'image') throw new ShotgunFault(`${at.type}.${field} is not a thumbnail field`);
    const stored = this.keep(file.filename, file.contentType, file.data);
    const ext = /\.([A-Za-z0-9]{1,5})$/.exec(file.filename)?.[1]?.toLowerCase() ?? 'jpg';
    const object = `${MEDIA_ORIGIN}/thumbnail/${at.type}/${at.id}/${stored.id}.${ext}`;
    this.d.media.processing(object);
    this.d.writes.update(actor, { type: at.type, id: at.id, fields: [{ field_name: field, value: object }] });
    return stored.id;
  }

  /** Stores a file, linked into `field` (a File/Link field) when given. Returns the attachment id. */
  attachFile(actor: Actor, at: { type: string; id: number }, field: string | undefined, displayName: string | undefined, file: FormFile): number {
    if (field && this.d.schema.dataType(at.type, field) !== 'url') throw new ShotgunFault(`${at.type}.${field} is not a File/Link field`);
    if (!field && !this.d.schema.hasType(at.type)) throw new ShotgunFault(`entity type ${at.type} doesn't exist`);
    const stored = this.keep(file.filename, file.contentType, file.data);
    if (field) {
      const value = {
        content_type: file.contentType,
        link_type: 'upload',
        name: displayName || file.filename,
        url: `${this.d.origin()}/file_serve/attachment/${stored.id}`,
        type: 'Attachment',
        id: stored.id,
      };
      this.d.writes.update(actor, { type: at.type, id: at.id, fields: [{ field_name: field, value }] });
    }
    return stored.id;
  }

  private download(req: IncomingMessage, res: ServerResponse, path: string): void {
    const session = /(?:^|;\s*)_session_id=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
    try {
      if (session !== undefined) this.d.auth.authenticate({ session_token: decodeURIComponent(session) });
    } catch {
      return send(res, 403, 'text/html; charset=utf-8', Buffer.from('<h1>Forbidden</h1>'));
    }
    const id = Number(path.slice('/file_serve/attachment/'.length).split('/')[0]);
    const f = Number.isInteger(id) ? this.files.get(id) : undefined;
    if (!f) return send(res, 400, 'text/html; charset=utf-8', Buffer.from('<h1>Attachment not found</h1>'));
    res.writeHead(200, {
      'content-type': f.contentType,
      'content-length': f.data.length,
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(f.filename)}`,
    });
    res.end(f.data);
  }

  private keep(filename: string, contentType: string, data: Buffer): StoredFile {
    const f = { id: this.nextId++, filename, contentType, data };
    this.files.set(f.id, f);
    return f;
  }
}

export function isTrue(v: string | undefined): boolean {
  return v === 'True' || v === 'true' || v === '1';
}

export function target(form: FormBody): { type: string; id: number } {
  const type = form.fields.entity_type ?? '';
  const id = Number(form.fields.entity_id);
  if (!type || !Number.isInteger(id)) throw new ShotgunFault('entity_type and entity_id are required');
  return { type, id };
}

export function authOf(form: FormBody): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of AUTH_KEYS) if (form.fields[k] !== undefined) out[k] = form.fields[k];
  return out;
}

export function send(res: ServerResponse, status: number, contentType: string, body: Buffer): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': body.length });
  res.end(body);
}
