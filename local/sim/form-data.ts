// HTML form bodies as shotgun_api3 posts them to /upload/* (multipart/form-data with files, urlencoded without): parsed into fields and files.

export interface FormFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface FormBody {
  fields: Record<string, string>;
  files: Record<string, FormFile>;
}

/** Parses a form body by its content-type; a body that is neither kind (or malformed) yields what could be read. */
export function parseForm(contentType: string | undefined, body: Buffer): FormBody {
  const ct = contentType ?? '';
  const boundary = /boundary="?([^";]+)"?/i.exec(ct)?.[1];
  if (/^multipart\/form-data/i.test(ct) && boundary) return parseMultipart(body, boundary);
  const fields: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) fields[k] = v;
  return { fields, files: {} };
}

function parseMultipart(body: Buffer, boundary: string): FormBody {
  const out: FormBody = { fields: {}, files: {} };
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    const part = body.subarray(start, next < 0 ? body.length : next);
    addPart(out, part);
    at = next;
  }
  return out;
}

/** One part: CRLF, headers, a blank line, the content, CRLF (before the next delimiter). */
function addPart(out: FormBody, raw: Buffer): void {
  const part = raw.subarray(0, 2).toString() === '\r\n' ? raw.subarray(2) : raw;
  const split = part.indexOf('\r\n\r\n');
  if (split < 0) return;
  const headers = part.subarray(0, split).toString('utf8');
  let content = part.subarray(split + 4);
  if (content.subarray(content.length - 2).toString() === '\r\n') content = content.subarray(0, content.length - 2);
  const name = /name="([^"]*)"/i.exec(headers)?.[1];
  if (name === undefined) return;
  const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
  if (filename === undefined) {
    out.fields[name] = content.toString('utf8');
    return;
  }
  const contentType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim() ?? 'application/octet-stream';
  out.files[name] = { filename, contentType, data: Buffer.from(content) };
}
