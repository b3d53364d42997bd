import { decode, encode, readArray, readBytes } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';

/**
 * The codec of a body that is one 32-byte id, wire form [id]: flex-confirm names an
 * activation, flex-withdraw a bid, agreement-sign and -withdraw an agreement. `field` is the
 * body's field, `what` what its error calls the id. Throws CODEC_* or TX_INVALID_FIELD
 * naming `tx.body.<field>`.
 */
export function idBody<K extends string>(field: K, what: string) {
  const path = `tx.body.${field}`;
  return {
    encode(b: Readonly<Record<K, Uint8Array>>): Uint8Array {
      const id: unknown = b[field];
      if (!(id instanceof Uint8Array) || id.length !== 32) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be a 32-byte ${what}`, path);
      return encode([id]);
    },
    decode(bytes: Uint8Array): Record<K, Uint8Array> {
      const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 1);
      return { [field]: readBytes(f[0]!, path, 32) } as Record<K, Uint8Array>;
    },
  };
}
