import { decode, encode, readAmount, readArray, readBytes } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/** Settlement-currency transfer. Wire form: [to (20-byte address), amount (integer > 0, micro-units)] */
export interface TransferBody {
  readonly to: Uint8Array;
  readonly amount: bigint;
}

function checkTransfer(to: Uint8Array, amount: bigint): void {
  if (!(to instanceof Uint8Array) || to.length !== ADDRESS_LENGTH) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `recipient must be a ${ADDRESS_LENGTH}-byte address`, 'tx.body.to');
  }
  if (amount <= 0n) throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'amount must be greater than 0', 'tx.body.amount');
}

export function encodeTransferBody(body: { to: Uint8Array; amount: bigint | number }): Uint8Array {
  const amount = BigInt(body.amount);
  checkTransfer(body.to, amount);
  return encode([body.to, amount]);
}

/**
 * Fast path for the one shape a valid transfer body can have:
 * 0x92 (array of 2), 0xc4 0x14 (bin8, 20 bytes) <address>, then the amount in msgpack's
 * form the canonical codec writes (msgpackr's choice): positive fixint 1..0x7f,
 * uint8 0xcc >= 0x80, uint16 0xcd >= 0x100, uint32 0xce >= 0x10000, int64 0xd3 for
 * 2^32..2^63-1, uint64 0xcf >= 2^63. Anything else (including
 * every invalid input) returns undefined and goes through the generic decoder, which
 * produces the precise error; tests check that both paths agree on every input.
 */
function decodeTransferFast(b: Uint8Array): TransferBody | undefined {
  if (b.length < 24 || b[0] !== 0x92 || b[1] !== 0xc4 || b[2] !== ADDRESS_LENGTH) return undefined;
  const tag = b[23]!;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let amount: bigint;
  let end: number;
  if (tag >= 0x01 && tag <= 0x7f) {
    amount = BigInt(tag);
    end = 24;
  } else if (tag === 0xcc && b.length === 25 && b[24]! >= 0x80) {
    amount = BigInt(b[24]!);
    end = 25;
  } else if (tag === 0xcd && b.length === 26 && view.getUint16(24) >= 0x100) {
    amount = BigInt(view.getUint16(24));
    end = 26;
  } else if (tag === 0xce && b.length === 28 && view.getUint32(24) >= 0x10000) {
    amount = BigInt(view.getUint32(24));
    end = 28;
  } else if (tag === 0xd3 && b.length === 32 && view.getBigInt64(24) >= 0x1_0000_0000n) {
    amount = view.getBigInt64(24);
    end = 32;
  } else if (tag === 0xcf && b.length === 32 && view.getBigUint64(24) >= 0x8000_0000_0000_0000n) {
    amount = view.getBigUint64(24);
    end = 32;
  } else {
    return undefined;
  }
  if (b.length !== end) return undefined;
  return { to: b.slice(3, 23), amount };
}

/** Throws CODEC_* (malformed, non-canonical, wrong shape) or TX_INVALID_FIELD, naming `tx.body.*`. */
export function decodeTransferBody(bytes: Uint8Array): TransferBody {
  const fast = decodeTransferFast(bytes);
  if (fast !== undefined) return fast;
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 2);
  const to = readBytes(f[0]!, 'tx.body.to', ADDRESS_LENGTH);
  const amount = readAmount(f[1]!, 'tx.body.amount');
  checkTransfer(to, amount);
  return { to, amount };
}

export interface BuildTransferArgs extends SenderArgs {
  readonly to: Uint8Array;
  readonly amount: bigint | number;
}

/** Builds and signs a transfer; the result's `bytes` are what `joule_sendRawTransaction` takes. */
export function buildTransfer(args: BuildTransferArgs): Tx {
  return signBody(args, TxType.transfer, encodeTransferBody({ to: args.to, amount: args.amount }));
}
