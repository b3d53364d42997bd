import { decode, encode, readAmount, readArray, readBytes, UINT64_MAX } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 24: an account holding the issuer role creates settlement currency for any account.
 * Nothing but currency-mint creates currency and nothing but currency-burn destroys it.
 * Wire form: [to (20), amount (micro-units, 1..2^64-1)]
 */
export interface CurrencyMintBody {
  readonly to: Uint8Array;
  readonly amount: bigint;
}

/** 1..2^64-1 micro-units; TX_INVALID_FIELD naming tx.body.amount otherwise. */
export function checkCurrencyAmount(amount: bigint): void {
  if (typeof amount !== 'bigint' || amount <= 0n || amount > UINT64_MAX)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'must be an integer amount of micro-units, 1..2^64-1', 'tx.body.amount');
}

export function encodeCurrencyMintBody(b: CurrencyMintBody): Uint8Array {
  if (!(b.to instanceof Uint8Array) || b.to.length !== ADDRESS_LENGTH)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be a ${ADDRESS_LENGTH}-byte address`, 'tx.body.to');
  checkCurrencyAmount(b.amount);
  return encode([b.to, b.amount]);
}

export function decodeCurrencyMintBody(bytes: Uint8Array): CurrencyMintBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 2);
  const body = { to: readBytes(f[0]!, 'tx.body.to', ADDRESS_LENGTH), amount: readAmount(f[1]!, 'tx.body.amount') };
  checkCurrencyAmount(body.amount);
  return body;
}

export function buildCurrencyMint(args: SenderArgs & { to: Uint8Array; amount: bigint | number }): Tx {
  return signBody(args, TxType.currencyMint, encodeCurrencyMintBody({ to: args.to, amount: BigInt(args.amount) }));
}
