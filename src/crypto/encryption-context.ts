/**
 * The encryption context as AAD: an unambiguous encoding, so that
 * {"a":"bc"} and {"ab":"c"} never produce the same bytes. Pairs are sorted by
 * the UTF-8 bytes of the key; every field is length-prefixed (u32 BE).
 */
export function encodeEncryptionContext(ctx: Readonly<Record<string, string>> | undefined): Buffer {
  const pairs = Object.entries(ctx ?? {}).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + v.length;
  const out = Buffer.allocUnsafe(size);
  let o = out.writeUInt32BE(pairs.length, 0);
  for (const [k, v] of pairs) {
    o = out.writeUInt32BE(k.length, o);
    o += k.copy(out, o);
    o = out.writeUInt32BE(v.length, o);
    o += v.copy(out, o);
  }
  return out;
}
