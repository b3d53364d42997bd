import fc from 'fast-check';
import type { BlsKeyPair } from '../../core/keys.ts';
import { testDeviceKey } from './energy-chain.ts';

/**
 * The ops of the whole-ledger property test (vm/energy/ledger.property.test.ts): the random
 * blocks it runs (fast-check arbitraries) and the fixed scenario it runs first, which takes
 * every path so the coverage checks never depend on the seed.
 */
export const OWNERS = ['alice', 'bob', 'carol'] as const;
export const OPERATORS = ['agg', 'other'] as const;
const SLOTS = 5;
export const slotId = (s: number) => `d${s}`;

const keyCache = new Map<number, BlsKeyPair>();
/** Device key number n (ROGUE and above are never registered). */
export const keyNo = (n: number) => keyCache.get(n) ?? keyCache.set(n, testDeviceKey(n, 'ledger-prop')).get(n)!;
export const ROGUE = 10_000;

export type Op =
  | { op: 'register'; slot: number; who: number; rogue: boolean }
  | { op: 'rekey'; slot: number; stranger: boolean; fault: 'none' | 'rogue' | 'reused' }
  | { op: 'status'; slot: number; action: 'suspend' | 'reactivate' | 'revoke'; stranger: boolean }
  | {
      op: 'telemetry';
      /** Picks the batch's first device among the registered ones; the others are that one's operator's. */
      anchor: number;
      sender: 'operator' | 'other-aggregator' | 'no-role';
      readings: { slot: number; offsetS: number; wh: number }[];
      fault: 'none' | 'replay' | 'reorder' | 'out-of-limit' | 'wrong-key' | 'stale-key' | 'unknown-device';
      pick: number;
    }
  | ({ op: 'transfer' } & SpendOp)
  | ({ op: 'retire' } & SpendOp);

export interface SpendOp {
  pick: number;
  fault: 'none' | 'foreign' | 'spent' | 'mixed' | 'amount';
  merge: boolean;
  shares: number[];
  extra: number;
}

const slot = fc.nat(SLOTS - 1);
/** The sender is not the device's operator (but the other aggregator): one time in four. */
const stranger = fc.constantFrom(false, false, false, true);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), slot, who: fc.constantFrom(0, 0, 1, 2), rogue: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('rekey' as const),
      slot,
      stranger,
      fault: fc.constantFrom('none' as const, 'none' as const, 'none' as const, 'rogue' as const, 'reused' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('status' as const),
      slot,
      action: fc.constantFrom('suspend' as const, 'suspend' as const, 'reactivate' as const, 'reactivate' as const, 'reactivate' as const, 'revoke' as const),
      stranger,
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('telemetry' as const),
      anchor: fc.nat(),
      sender: fc.oneof({ weight: 8, arbitrary: fc.constant('operator' as const) }, fc.constant('other-aggregator' as const), fc.constant('no-role' as const)),
      readings: fc.array(
        fc.record({
          slot,
          offsetS: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -3, max: 1 }) }, { weight: 1, arbitrary: fc.integer({ min: -12, max: 12 }) }),
          wh: fc.integer({ min: -2, max: 1 }),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      fault: fc.constantFrom(
        ...([
          'none',
          'none',
          'none',
          'none',
          'none',
          'none',
          'replay',
          'reorder',
          'out-of-limit',
          'wrong-key',
          'stale-key',
          'stale-key',
          'unknown-device',
        ] as const),
      ),
      pick: fc.nat(),
    }),
  },
  ...(['transfer', 'retire'] as const).map((op) => ({
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant(op) as fc.Arbitrary<'transfer'>,
      pick: fc.nat(),
      fault: fc.constantFrom('none' as const, 'none' as const, 'none' as const, 'foreign' as const, 'spent' as const, 'mixed' as const, 'amount' as const),
      merge: fc.boolean(),
      shares: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
      extra: fc.nat(),
    }),
  })),
);
export const blockArb = fc.record({
  advanceMs: fc.constantFrom(0, 0, 0, 0, 0, 0, 2_000, 9_000, 30_000, 36_000, 65_000, 130_000),
  ops: fc.array(opArb, { minLength: 1, maxLength: 5 }),
});

export type Block = { readonly advanceMs: number; readonly ops: readonly Op[] };

const at = (slot: number, offsetS: number, wh: number) => ({ slot, offsetS, wh });
const batch = (readings: ReturnType<typeof at>[], more: Partial<Extract<Op, { op: 'telemetry' }>> = {}): Op => ({
  op: 'telemetry',
  anchor: 0,
  sender: 'operator',
  readings,
  fault: 'none',
  pick: 0,
  ...more,
});
const spend = (op: 'transfer' | 'retire', fault: SpendOp['fault'], extra = 0): Op => ({ op, pick: 0, fault, merge: false, shares: [1, 2], extra }) as Op;

/**
 * One sequence run before the random ones, so that every path the invariants are about is
 * taken in every run of the test, whatever the seed: d0..d3 operated by agg (d0, d3
 * alice's), d0 re-keyed, readings signed with its rotated-out key both ways, an impossible
 * reading, an interval close that mints d0's and d3's export (two provenances of one
 * owner), transfers and retirements valid, spent twice, mixed, foreign, unbalanced.
 */
export const SCENARIO: Block[] = [
  {
    advanceMs: 0,
    ops: [
      { op: 'register', slot: 2, who: 0, rogue: false },
      { op: 'register', slot: 3, who: 0, rogue: false },
      { op: 'register', slot: 4, who: 0, rogue: true },
      { op: 'register', slot: 4, who: 2, rogue: false },
    ],
  },
  {
    advanceMs: 0,
    ops: [
      batch([at(0, -2, -2), at(3, -2, -2), at(1, -1, -1), at(2, -1, 1)]),
      batch([at(1, 0, -1)], { fault: 'replay', pick: 2 }),
      batch([at(0, 0, -1)], { fault: 'replay', pick: 2 }),
    ],
  },
  {
    advanceMs: 0,
    ops: [
      { op: 'rekey', slot: 0, stranger: false, fault: 'none' },
      { op: 'rekey', slot: 1, stranger: false, fault: 'rogue' },
      { op: 'rekey', slot: 2, stranger: false, fault: 'reused' },
      { op: 'rekey', slot: 3, stranger: true, fault: 'none' },
    ],
  },
  {
    advanceMs: 0,
    ops: [
      batch([at(1, 0, -1)], { fault: 'stale-key', pick: 0 }),
      batch([at(1, 0, -1)], { fault: 'stale-key', pick: 1 }),
      // Only the re-keyed device, signed with its old key: nothing counts, so the batch is refused (TELEMETRY_KEY_ROTATED), not skipped.
      batch([at(0, 0, -1)], { fault: 'stale-key', pick: 0 }),
      batch([at(1, 0, -1)], { fault: 'wrong-key' }),
      batch([at(1, 0, -1)], { fault: 'unknown-device' }),
      batch([at(1, 0, -1)], { sender: 'other-aggregator' }),
    ],
  },
  { advanceMs: 0, ops: [batch([at(0, 0, -1), at(1, 12, -1)]), batch([at(0, 0, -1), at(2, 0, -1)], { fault: 'out-of-limit', pick: 1 }), batch([at(0, 0, -1)])] },
  {
    advanceMs: 36_000,
    ops: [
      { op: 'status', slot: 2, action: 'reactivate', stranger: false },
      { op: 'status', slot: 1, action: 'suspend', stranger: false },
      batch([at(1, 0, -1)], { anchor: 1 }),
      // The suspended device beside an active one: skipped, and the batch counts the other.
      batch([at(0, 0, -1), at(1, 1, -1)]),
    ],
  },
  {
    advanceMs: 0,
    ops: [spend('transfer', 'none'), spend('transfer', 'spent'), spend('transfer', 'mixed'), spend('transfer', 'foreign'), spend('transfer', 'amount')],
  },
  // Retired energy never moves: neither the UTXO retired nor the certificate's id spends again.
  { advanceMs: 0, ops: [spend('retire', 'none'), spend('retire', 'spent', 1), spend('retire', 'spent', 2), spend('retire', 'amount')] },
];
