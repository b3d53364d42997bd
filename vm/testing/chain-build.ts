/**
 * What the builders of the whole-VM test's txs share (vm/testing/chain-txs.ts,
 * chain-market-txs.ts; not used by the node): the state a block's ops are built against,
 * and how an op's numbers pick a sender, a target and a market interval.
 */
import type { PriceFormula } from '../../core/agreement.ts';
import type { SenderArgs } from '../../core/tx/sign.ts';
import type { Tx } from '../../core/tx.ts';
import type { TestValidator } from '../../consensus/testing/fixtures.ts';
import { getDevice } from '../../state/devices.ts';
import type { StateReader } from '../../state/overlay.ts';
import type { ChainParams } from '../../core/params.ts';
import type { Op } from './chain-ops.ts';
import { addressOf, type Targets, type World } from './chain-world.ts';
import type { TestKey } from './fixtures.ts';

export type Sender = TestKey | TestValidator;

export interface BuildContext {
  readonly w: World;
  /** The committed state the block starts from. */
  readonly state: StateReader;
  readonly targets: Targets;
  readonly params: ChainParams;
  readonly height: number;
  /** The block's timestamp, ms. */
  readonly now: number;
  /** Txs included in earlier blocks (replays). */
  readonly history: readonly Tx[];
  /** The nonce `who`'s next tx of this block takes (its account's, plus its txs included so far in the block). */
  nonceOf(who: Uint8Array): number;
}

/** A tx made for `sender` once the runner knows its nonce, or a tx as it is (a replay). */
export type Built = { readonly sender: Sender; make(args: SenderArgs): Tx } | Tx;

export const HOSTILE = 5;
export const pickOf = <T>(xs: readonly T[], n: number): T | undefined => (xs.length === 0 ? undefined : xs[n % xs.length]);

export function byName(w: World, names: readonly string[], op: Op): Sender {
  if (op.flag === 7) return w.senders[op.who % w.senders.length]!;
  return w.accounts[names[op.who % names.length]!]!;
}

export const validatorOr = (w: World, op: Op): Sender => (op.flag === 7 ? w.senders[op.who % w.senders.length]! : w.validators[op.who % w.validators.length]!);

/** The device's operator (its record's), or anyone with flag 7; undefined for a device never registered. */
export function operatorOf(x: BuildContext, id: string, op: Op): Sender | undefined {
  if (op.flag === 7) return x.w.senders[op.who % x.w.senders.length]!;
  const d = getDevice(x.state, id);
  if (d === undefined) return x.w.accounts.agg!;
  return x.w.senders.find((s) => addressOf(s).every((b, i) => b === d.operator[i]));
}

export const intervalAt = (x: BuildContext, k: number) => (Math.floor(x.now / x.params.settlementIntervalMs) + k) * x.params.settlementIntervalMs;

export const PRICE_KINDS = (p: bigint): PriceFormula[] => [
  { kind: 'fixed', price: p },
  { kind: 'time-of-use', table: Array.from({ length: 24 }, (_, h) => p + BigInt(h)) },
  { kind: 'market', premium: p / 10n, fallback: p },
];
