import type { BlockEvent } from '../core/block.ts';
import { UINT64_MAX } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { hasRole } from '../core/roles.ts';
import { decodeCurrencyBurnBody, type CurrencyBurnBody } from '../core/tx/currency-burn.ts';
import { decodeCurrencyMintBody, type CurrencyMintBody } from '../core/tx/currency-mint.ts';
import { TxType } from '../core/tx/types.ts';
import type { Tx } from '../core/tx.ts';
import { accountKey } from '../state/keys.ts';
import type { StateReader } from '../state/overlay.ts';
import { getSupply, putSupply, SUPPLY_KEY } from '../state/supply.ts';
import { addressText, readAccount, writeAccount } from './accounts.ts';
import type { ExecContext, TxHandler } from './types.ts';

/**
 * Settlement currency issuance (types 24, 25): only accounts holding the issuer role create
 * currency (mint, to any account) or destroy it (burn, their own). Every other type
 * conserves it: transfers move it, fees go to the proposer. Both keep the total supply
 * (state/supply.ts), and a mint that would take it past 2^64-1 is refused: beyond it a
 * fee credit or a hook's payment into a full account would not encode, and the block
 * could not be built.
 */

function checkMint(state: StateReader, body: CurrencyMintBody, tx: Tx): void {
  requireIssuer(state, body, tx);
  const supply = getSupply(state) ?? 0n;
  if (body.amount > UINT64_MAX - supply)
    throw new JouleError(
      ErrorCode.TX_INVALID_FIELD,
      `would take the total supply (${supply}) past ${UINT64_MAX}; at most ${UINT64_MAX - supply} can be minted`,
      'tx.body.amount',
    );
}

function requireIssuer(state: StateReader, _body: unknown, tx: Tx): void {
  if (!hasRole(readAccount(state, tx.from).roles, 'issuer'))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} does not hold the issuer role`, 'tx.sender');
}

export const currencyMintHandler: TxHandler<CurrencyMintBody> = {
  type: TxType.currencyMint,
  name: 'currency-mint',
  tier: 'peer_to_peer',
  decodeBody: decodeCurrencyMintBody,
  spend: () => 0n,
  keys: (body) => currencyMintKeys(body),
  checkState: checkMint,
  execute({ state, tx, body }: ExecContext<CurrencyMintBody>): BlockEvent[] {
    const to = readAccount(state, body.to);
    // Within the supply's bound, so the balance encodes.
    writeAccount(state, body.to, { ...to, balance: to.balance + body.amount });
    const supply = getSupply(state);
    if (supply !== undefined) putSupply(state, supply + body.amount);
    return [
      {
        type: 'currency-mint',
        attributes: [
          ['issuer', addressText(tx.from)],
          ['to', addressText(body.to)],
          ['amount', body.amount.toString()],
        ],
      },
    ];
  },
  describe: (body) => ({ to: addressText(body.to), amount: body.amount.toString() }),
};

export const currencyBurnHandler: TxHandler<CurrencyBurnBody> = {
  type: TxType.currencyBurn,
  name: 'currency-burn',
  tier: 'peer_to_peer',
  decodeBody: decodeCurrencyBurnBody,
  spend: (body) => body.amount,
  spendField: 'tx.body.amount',
  keys: () => [SUPPLY_KEY],
  checkState: requireIssuer,
  execute({ tx, body, state, sender }: ExecContext<CurrencyBurnBody>): BlockEvent[] {
    writeAccount(state, tx.from, { ...sender, balance: sender.balance - body.amount });
    const supply = getSupply(state);
    if (supply !== undefined) putSupply(state, supply - body.amount);
    return [
      {
        type: 'currency-burn',
        attributes: [
          ['issuer', addressText(tx.from)],
          ['amount', body.amount.toString()],
        ],
      },
    ];
  },
  describe: (body) => ({ amount: body.amount.toString() }),
};

/** State keys currency-mint reads besides the sender's account. */
export function currencyMintKeys(body: CurrencyMintBody): Uint8Array[] {
  return [accountKey(body.to), SUPPLY_KEY];
}
