/**
 * A streaming multipart/form-data reader (RFC 7578) for S3 POST Object. It
 * yields the parts in order; a part's body is an async iterable that must be
 * read (or is drained) before the next part. Nothing but the small window
 * needed to spot the boundary is held in memory, so a file part of any size
 * streams straight through.
 */

export interface FormPart {
  /** The form field name (case as sent). */
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  body: AsyncIterable<Buffer>;
}

export class FormError extends Error {}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_PART_HEADERS = 16 * 1024;

/** The boundary of a multipart/form-data content type, else undefined. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  return b && b.length <= 200 ? b : undefined;
}

function parseDisposition(v: string): { name?: string; filename?: string } {
  const out: { name?: string; filename?: string } = {};
  for (const m of v.matchAll(/;\s*([a-zA-Z*]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const key = (m[1] as string).toLowerCase();
    const val = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    if (key === 'name') out.name = val;
    else if (key === 'filename') out.filename = val;
  }
  return out;
}

export async function* readForm(source: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<FormPart> {
  const it = source[Symbol.asyncIterator]();
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  const fill = async (): Promise<boolean> => {
    if (ended) return false;
    const r = await it.next();
    if (r.done) {
      ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    return true;
  };
  const dash = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);

  // Preamble up to the first boundary.
  for (;;) {
    const i = buf.indexOf(dash);
    if (i >= 0) {
      buf = buf.subarray(i + dash.length);
      break;
    }
    if (buf.length > dash.length) buf = buf.subarray(buf.length - dash.length);
    if (!(await fill())) throw new FormError('no multipart boundary found');
  }

  for (;;) {
    // After a boundary: "--" ends the form, CRLF starts a part.
    while (buf.length < 2) if (!(await fill())) throw new FormError('truncated multipart body');
    if (buf[0] === 0x2d && buf[1] === 0x2d) return;
    if (!buf.subarray(0, 2).equals(CRLF)) throw new FormError('malformed multipart boundary');
    buf = buf.subarray(2);
    let end: number;
    while ((end = buf.indexOf(HEADER_END)) < 0) {
      if (buf.length > MAX_PART_HEADERS) throw new FormError('multipart part headers too large');
      if (!(await fill())) throw new FormError('truncated multipart part headers');
    }
    const headers = buf.subarray(0, end).toString('latin1').split('\r\n');
    buf = buf.subarray(end + HEADER_END.length);
    let disposition = '';
    let contentType: string | undefined;
    for (const line of headers) {
      const c = line.indexOf(':');
      if (c < 0) continue;
      const name = line.slice(0, c).trim().toLowerCase();
      const value = line.slice(c + 1).trim();
      if (name === 'content-disposition') disposition = value;
      else if (name === 'content-type') contentType = value;
    }
    if (!/^form-data\b/i.test(disposition)) throw new FormError('multipart part without form-data disposition');
    const { name, filename } = parseDisposition(disposition);
    if (name === undefined) throw new FormError('multipart part without a name');

    let done = false;
    async function* body(): AsyncGenerator<Buffer> {
      for (;;) {
        const i = buf.indexOf(delimiter);
        if (i >= 0) {
          if (i > 0) yield buf.subarray(0, i);
          buf = buf.subarray(i + delimiter.length);
          done = true;
          return;
        }
        // Keep only what could be the start of a delimiter split across chunks.
        const keep = Math.min(buf.length, delimiter.length - 1);
        if (buf.length > keep) {
          const out = buf.subarray(0, buf.length - keep);
          buf = buf.subarray(buf.length - keep);
          yield out;
        }
        if (!(await fill())) throw new FormError('truncated multipart part');
      }
    }
    const b = body();
    yield { name, filename, contentType, body: b };
    // Drain what the consumer did not read.
    if (!done) for await (const _ of b) void _;
  }
}

/** Reads a (small) field's value, refusing more than `limit` bytes. */
export async function fieldText(part: FormPart, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of part.body) {
    size += c.length;
    if (size > limit) throw new FormError('form field too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
