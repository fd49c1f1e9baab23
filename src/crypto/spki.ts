/**
 * DER SubjectPublicKeyInfo for ML-DSA and ML-KEM (FIPS 204 OIDs 2.16.840.1.101.3.4.3.17/18/19),
 * which Node 20's crypto cannot export: SEQUENCE { SEQUENCE { OID }, BIT STRING }.
 */
const OID_TAIL = { 44: 0x11, 65: 0x12, 87: 0x13 } as const;

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.of(0x80 | bytes.length, ...bytes);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), derLength(body.length), body]);
}

/** ML-KEM (FIPS 203 OIDs 2.16.840.1.101.3.4.4.1/2/3). */
export function mlKemSpki(level: 512 | 768 | 1024, publicKey: Uint8Array): Buffer {
  const tail = level === 512 ? 0x01 : level === 768 ? 0x02 : 0x03;
  const alg = tlv(0x30, tlv(0x06, Buffer.of(0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, tail)));
  return tlv(0x30, Buffer.concat([alg, tlv(0x03, Buffer.concat([Buffer.of(0), publicKey]))]));
}

export function mlDsaSpki(level: 44 | 65 | 87, publicKey: Uint8Array): Buffer {
  const oid = tlv(0x06, Buffer.of(0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, OID_TAIL[level]));
  const alg = tlv(0x30, oid);
  const bits = tlv(0x03, Buffer.concat([Buffer.of(0), publicKey]));
  return tlv(0x30, Buffer.concat([alg, bits]));
}
