/**
 * The adversary of the whole-VM model-based test (vm/chain.property.test.ts; not used by
 * the node): what it may put in a block. An op names a tx type and a few small numbers
 * that vm/testing/chain-txs.ts reads as its sender, its target among what the state holds
 * (an order, an agreement, a bid, a UTXO, a trade), its amounts and times, and a fault;
 * `env` spoils the envelope (nonce, fee, chain id, signature). A block is a clock advance
 * (small, or past gate closures, interval closes, confirmation deadlines, cooling-off,
 * margin deadlines, dispute windows) and a list of ops.
 */
import fc from 'fast-check';

export const KINDS = [
  'transfer',
  'mint',
  'burn',
  'register',
  'update',
  'status',
  'rekey',
  'role-vote',
  'validator-vote',
  'evidence',
  'telemetry',
  'meter-all',
  'resolution',
  'grid-intensity',
  'command',
  'energy-transfer',
  'energy-retire',
  'order-place',
  'order-burst',
  'order-cancel',
  'propose',
  'sign',
  'withdraw',
  'collateralise',
  'dispute',
  'vote',
  'flex-bid',
  'flex-activate',
  'flex-confirm',
  'flex-withdraw',
  'reversal-propose',
  'reversal-approve',
  'replay',
] as const;
export type Kind = (typeof KINDS)[number];

/** How often each kind comes, relative: the markets, agreements and telemetry that feed the hooks most. */
const WEIGHT: Readonly<Record<Kind, number>> = {
  transfer: 2,
  mint: 1,
  burn: 1,
  register: 1,
  update: 1,
  status: 3,
  rekey: 1,
  'role-vote': 1,
  'validator-vote': 1,
  evidence: 1,
  telemetry: 10,
  'meter-all': 20,
  resolution: 2,
  'grid-intensity': 1,
  command: 2,
  'energy-transfer': 2,
  'energy-retire': 2,
  'order-place': 16,
  'order-burst': 6,
  'order-cancel': 2,
  propose: 3,
  sign: 5,
  withdraw: 1,
  collateralise: 8,
  dispute: 2,
  vote: 3,
  'flex-bid': 2,
  'flex-activate': 3,
  'flex-confirm': 6,
  'flex-withdraw': 1,
  'reversal-propose': 2,
  'reversal-approve': 2,
  replay: 1,
};

/** What spoils the envelope: mostly nothing. */
export const ENV_FAULTS = ['none', 'nonce+1', 'nonce-1', 'fee-low', 'chain', 'bad-sig'] as const;
export type EnvFault = (typeof ENV_FAULTS)[number];

export interface Op {
  readonly kind: Kind;
  /** The sender, among those the kind expects (or, with flag 7, anyone). */
  readonly who: number;
  /** The target among the candidates the state holds. */
  readonly pick: number;
  readonly a: number;
  readonly b: number;
  /** 0-4: the op as a client would send it; 5-7: the kind's hostile variants (7: a sender with no right to it). */
  readonly flag: number;
  readonly env: EnvFault;
}

export interface Block {
  readonly advanceMs: number;
  readonly ops: readonly Op[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/**
 * Devnet timing (core/params.ts): blocks 1 s apart, gates 5 s before an interval of 30 s,
 * closes 8 s after its end, confirmations within 30 s, a cooling-off of 60 s, margin
 * deadlines 30 min after a call, disputes up to 48 h after settlement.
 */
const ADVANCES = [0, 0, 0, 0, 0, 0, 0, 0, 2 * SECOND, 4 * SECOND, 9 * SECOND, 25 * SECOND, 31 * SECOND, 40 * SECOND, 61 * SECOND];
/** Rarely: past a margin deadline, or past the dispute window (every device then misses intervals and is flagged). */
const JUMPS = [31 * MINUTE, 49 * 60 * MINUTE];

export const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.oneof(...KINDS.map((k) => ({ weight: WEIGHT[k], arbitrary: fc.constant(k) }))),
  who: fc.nat(31),
  pick: fc.nat(1 << 20),
  a: fc.nat(1 << 30),
  b: fc.nat(1 << 30),
  flag: fc.nat(7),
  env: fc.oneof({ weight: 40, arbitrary: fc.constant('none' as const) }, fc.constantFrom(...ENV_FAULTS.slice(1))),
});

export const blockArb = (maxOps: number): fc.Arbitrary<Block> =>
  fc.record({
    advanceMs: fc.oneof({ weight: 40, arbitrary: fc.constantFrom(...ADVANCES) }, fc.constantFrom(...JUMPS)),
    ops: fc.array(opArb, { minLength: 0, maxLength: maxOps }),
  });
