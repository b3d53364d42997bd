/** Byte helpers shared by every part. Uint8Array everywhere; Buffer only at I/O edges. */

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const HEX_0X = /^0x([0-9a-fA-F]{2})*$/;

/**
 * Parses `0x`-prefixed hex of whole bytes, the one form every input (config, JSON-RPC, CLI
 * options, key files) takes; undefined for anything else, bare hex included, so that a
 * value typed without its prefix is refused rather than guessed at.
 */
export function fromHexOrUndefined(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || !HEX_0X.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s.slice(2), 'hex'));
}

/** For constants and tests: hex with or without 0x; throws on anything else. */
export function fromHex(s: string): Uint8Array {
  const b = fromHexOrUndefined(s.startsWith('0x') ? s : `0x${s}`);
  if (b === undefined) throw new TypeError(`not hex: ${s.slice(0, 20)}`);
  return b;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.compare(a, b) === 0;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Big-endian fixed-width encoding of a non-negative integer (heights in DB keys sort in order). */
export function u64be(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function readU64be(b: Uint8Array, offset = 0): number {
  return Number(new DataView(b.buffer, b.byteOffset + offset, 8).getBigUint64(0));
}
