import { shieldError, invalidParam } from './errors.js';

/** Offset tokens, tagged with the list they page so one list's token is refused by another. */
export function page<T>(items: T[], token: string | undefined, max: number | undefined, list: string): { items: T[]; next?: string } {
  if (max !== undefined && (!Number.isInteger(max) || max < 0 || max > 10000)) throw invalidParam('MaxResults must be from 0 to 10000.');
  const size = max === undefined || max === 0 ? 10000 : max;
  let start = 0;
  if (token !== undefined) {
    const m = /^([a-z-]+):(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
    if (!m || m[1] !== list) throw shieldError('InvalidPaginationTokenException', 'Invalid pagination token.');
    start = Number(m[2]);
  }
  const out = items.slice(start, start + size);
  return start + size < items.length ? { items: out, next: Buffer.from(`${list}:${start + size}`).toString('base64') } : { items: out };
}
