import { decode, encode, readAmount, readArray } from '../codec.ts';
import type { Tx } from '../tx.ts';
import { checkCurrencyAmount } from './currency-mint.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 25: an account holding the issuer role destroys settlement currency from its own
 * balance. Wire form: [amount (micro-units, 1..2^64-1)]
 */
export interface CurrencyBurnBody {
  readonly amount: bigint;
}

export function encodeCurrencyBurnBody(b: CurrencyBurnBody): Uint8Array {
  checkCurrencyAmount(b.amount);
  return encode([b.amount]);
}

export function decodeCurrencyBurnBody(bytes: Uint8Array): CurrencyBurnBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 1);
  const body = { amount: readAmount(f[0]!, 'tx.body.amount') };
  checkCurrencyAmount(body.amount);
  return body;
}

export function buildCurrencyBurn(args: SenderArgs & { amount: bigint | number }): Tx {
  return signBody(args, TxType.currencyBurn, encodeCurrencyBurnBody({ amount: BigInt(args.amount) }));
}
