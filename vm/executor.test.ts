import { describe, expect, it } from 'vitest';
import { equalBytes } from '../core/bytes.ts';
import { encode } from '../core/codec.ts';
import { encodeReceipt, receiptToWire } from '../core/block.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { formatAddress } from '../core/keys.ts';
import { DEFAULT_PARAMS } from '../core/params.ts';
import { buildTransfer } from '../core/tx/transfer.ts';
import { decodeTx, encodeTx, type Tx } from '../core/tx.ts';
import { getAccount } from '../state/accounts.ts';
import type { StateChange } from '../state/overlay.ts';
import { BlockExecutor, executeBlock } from './executor.ts';
import { MemoryState, testKey } from './testing/fixtures.ts';
import type { BlockContext, BlockResult } from './types.ts';

const chainId = 'joule-test';
const alice = testKey(1);
const bob = testKey(2);
const carol = testKey(3);
const proposer = testKey(100);
const ctx: BlockContext = { chainId, height: 7, timestamp: 1_700_000_000_000, proposer: proposer.address, params: DEFAULT_PARAMS };
const opts = {}; // verify every tx

function genesis(): MemoryState {
  const s = new MemoryState();
  s.setAccount(alice.address, { balance: 10_000n });
  s.setAccount(bob.address, { balance: 500n });
  return s;
}

function pay(from: typeof alice, to: typeof alice, nonce: number, amount: bigint, fee = 10n): Tx {
  return buildTransfer({ chainId, seed: from.seed, nonce, fee, to: to.address, amount });
}

function encodeResult(r: BlockResult): Uint8Array {
  return encode([
    r.receipts.map(receiptToWire),
    r.changes.map((c: StateChange) => [c.key, c.value ?? null]),
    r.events.map((e) => [e.type, e.attributes.map(([k, v]) => [k, v])]),
    r.feesCollected,
  ]);
}

describe('executeBlock', () => {
  it('moves the amount, charges the fee to the proposer, bumps the nonce', () => {
    const state = genesis();
    const r = executeBlock(state, [pay(alice, bob, 0, 1_000n, 25n)], ctx, opts);
    state.apply(r.changes);
    expect(getAccount(state, alice.address)).toMatchObject({ nonce: 1, balance: 10_000n - 1_000n - 25n });
    expect(getAccount(state, bob.address)).toMatchObject({ nonce: 0, balance: 1_500n });
    expect(getAccount(state, proposer.address).balance).toBe(25n);
    expect(r.feesCollected).toBe(25n);
    expect(r.receipts).toHaveLength(1);
    const rc = r.receipts[0]!;
    expect(rc).toMatchObject({ success: true, code: '', feePaid: 25n });
    expect(rc.events).toEqual([
      {
        type: 'transfer',
        attributes: [
          ['from', formatAddress(alice.address)],
          ['to', formatAddress(bob.address)],
          ['amount', '1000'],
        ],
      },
    ]);
    expect(r.events).toEqual([
      {
        type: 'fees',
        attributes: [
          ['proposer', formatAddress(proposer.address)],
          ['amount', '25'],
        ],
      },
    ]);
    // Changes are sorted by key.
    const keys = r.changes.map((c) => Buffer.from(c.key).toString('hex'));
    expect(keys).toEqual([...keys].sort());
  });

  it('sequences consecutive nonces of one sender within a block', () => {
    const state = genesis();
    const txs = [pay(alice, bob, 0, 1n), pay(alice, carol, 1, 2n), pay(alice, bob, 2, 3n), pay(bob, alice, 0, 4n)];
    const r = executeBlock(state, txs, ctx, opts);
    state.apply(r.changes);
    expect(getAccount(state, alice.address)).toMatchObject({ nonce: 3, balance: 10_000n - 6n - 30n + 4n });
    expect(getAccount(state, bob.address)).toMatchObject({ nonce: 1, balance: 500n + 4n - 4n - 10n });
    expect(getAccount(state, carol.address).balance).toBe(2n);
    expect(getAccount(state, proposer.address).balance).toBe(40n);
    // Out of order within the block is invalid.
    expect(() => executeBlock(genesis(), [pay(alice, bob, 1, 1n), pay(alice, bob, 0, 1n)], ctx, opts)).toThrow(/TX_NONCE_TOO_HIGH/);
    // Replaying a tx in the same block is a stale nonce.
    const t = pay(alice, bob, 0, 1n);
    expect(() => executeBlock(genesis(), [t, t], ctx, opts)).toThrow(/TX_NONCE_TOO_LOW/);
  });

  it('a self-transfer costs only the fee', () => {
    const state = genesis();
    state.apply(executeBlock(state, [pay(alice, alice, 0, 5_000n)], ctx, opts).changes);
    expect(getAccount(state, alice.address)).toMatchObject({ nonce: 1, balance: 10_000n - 10n });
  });

  it('re-execution of the same block on the same state is byte-identical', () => {
    const txs = [pay(alice, bob, 0, 7n), pay(bob, carol, 0, 9n, 12n), pay(alice, carol, 1, 11n)];
    const a = executeBlock(genesis(), txs, ctx, opts);
    const b = executeBlock(genesis(), txs, ctx, { verified: () => true });
    expect(encodeResult(a)).toEqual(encodeResult(b));
    expect(a.receipts.map(encodeReceipt)).toEqual(b.receipts.map(encodeReceipt));
    // Same txs fed through the builder path give the same result too.
    const ex = new BlockExecutor(genesis(), ctx, opts);
    for (const t of txs) expect(ex.tryApply(t)).not.toBeInstanceOf(JouleError);
    expect(encodeResult(ex.finish())).toEqual(encodeResult(a));
  });

  it('a larger block among many accounts re-executes identically, and on the resulting state too', () => {
    const keys = Array.from({ length: 12 }, (_, i) => testKey(i, 'determinism'));
    const base = (): MemoryState => {
      const s = new MemoryState();
      keys.forEach((k, i) => s.setAccount(k.address, { balance: 1_000n + BigInt(i) }));
      return s;
    };
    const nonces = keys.map(() => 0);
    const txs: Tx[] = [];
    for (let i = 0; i < 120; i++) {
      const f = (i * 7) % keys.length;
      const t = (i * 5 + 3) % keys.length;
      txs.push(pay(keys[f]!, keys[t]!, nonces[f]!++, BigInt(1 + (i % 9)), 10n + BigInt(i % 4)));
    }
    const first = executeBlock(base(), txs, ctx, opts);
    const second = executeBlock(base(), txs, ctx, opts);
    expect(encodeResult(second)).toEqual(encodeResult(first));
    const s1 = base();
    s1.apply(first.changes);
    const s2 = base();
    s2.apply(second.changes);
    const total = (s: MemoryState): bigint => [...keys.map((k) => k.address), proposer.address].reduce((sum, a) => sum + getAccount(s, a).balance, 0n);
    expect(total(s1)).toBe(total(base())); // value is conserved: fees move to the proposer
    expect(total(s2)).toBe(total(s1));
  });

  it('throws BLOCK_INVALID naming txs[i], with the tx code in the message', () => {
    const bad = pay(alice, bob, 2, 1n); // nonce gap: alice's next is 1
    try {
      executeBlock(genesis(), [pay(alice, bob, 0, 1n), pay(bob, alice, 0, 1n), bad], ctx, opts);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JouleError);
      const err = e as JouleError;
      expect(err.code).toBe(ErrorCode.BLOCK_INVALID);
      expect(err.field).toBe('txs[2]');
      expect(err.message).toMatch(/TX_NONCE_TOO_HIGH/);
    }
  });

  it('rejects more txs than params.maxBlockTxs', () => {
    const small = { ...ctx, params: { ...DEFAULT_PARAMS, maxBlockTxs: 1 } };
    expect(() => executeBlock(genesis(), [pay(alice, bob, 0, 1n), pay(alice, bob, 1, 1n)], small, opts)).toThrow(/BLOCK_INVALID|limit 1/);
  });

  it('an empty block changes nothing', () => {
    const r = executeBlock(genesis(), [], ctx, opts);
    expect(r).toEqual({ receipts: [], changes: [], events: [], feesCollected: 0n });
  });
});

// Issue 6, finding 5: execution may skip only the signatures of txs this node verified
// itself (named by hash); every other validity rule runs for every tx.
describe('executeBlock: the `verified` option', () => {
  const forged = (t: Tx): Tx => {
    const signature = new Uint8Array(t.signature);
    signature[0]! ^= 1;
    return decodeTx(encodeTx({ ...t, signature }));
  };
  const failure = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      if (e instanceof JouleError) return `${e.code} ${e.field} ${e.message}`;
      throw e;
    }
    return 'ok';
  };

  it('verifies the signature of every tx when absent, and of every tx it does not name', () => {
    const bad = forged(pay(alice, bob, 0, 1n));
    expect(failure(() => executeBlock(genesis(), [bad], ctx))).toMatch(/^BLOCK_INVALID txs\[0\] .*TX_BAD_SIGNATURE/);
    const other = pay(bob, alice, 0, 1n);
    expect(failure(() => executeBlock(genesis(), [other, bad], ctx, { verified: (h) => equalBytes(h, other.hash) }))).toMatch(
      /^BLOCK_INVALID txs\[1\] .*TX_BAD_SIGNATURE/,
    );
  });

  it('skips only the signatures of a tx it names: its nonce, balance and fee rules still run', () => {
    const bad = forged(pay(alice, bob, 0, 1n));
    const trusted = { verified: (h: Uint8Array) => equalBytes(h, bad.hash) };
    expect(executeBlock(genesis(), [bad], ctx, trusted).receipts[0]).toMatchObject({ success: true });
    const gap = forged(pay(alice, bob, 1, 1n));
    expect(failure(() => executeBlock(genesis(), [gap], ctx, { verified: () => true }))).toMatch(/TX_NONCE_TOO_HIGH/);
    const broke = forged(pay(bob, alice, 0, 10_000n));
    expect(failure(() => executeBlock(genesis(), [broke], ctx, { verified: () => true }))).toMatch(/TX_INSUFFICIENT_BALANCE/);
    const cheap = forged(pay(alice, bob, 0, 1n, 1n));
    expect(failure(() => executeBlock(genesis(), [cheap], ctx, { verified: () => true }))).toMatch(/TX_FEE_TOO_LOW/);
  });
});

describe('BlockExecutor.tryApply', () => {
  it('returns the error of a tx that fails validity and leaves no trace', () => {
    const good = [pay(alice, bob, 0, 1n), pay(alice, bob, 1, 2n)];
    const reference = executeBlock(genesis(), good, ctx, opts);

    const ex = new BlockExecutor(genesis(), ctx, opts);
    expect(ex.tryApply(good[0]!)).toMatchObject({ success: true });
    const rejects = [
      pay(alice, bob, 0, 1n), // stale
      pay(alice, bob, 5, 1n), // future
      pay(alice, bob, 1, 1_000_000n), // insufficient
      pay(carol, bob, 0, 1n), // carol has nothing
      buildTransfer({ chainId: 'other', seed: alice.seed, nonce: 1, fee: 10n, to: bob.address, amount: 1n }),
    ];
    for (const t of rejects) expect(ex.tryApply(t)).toBeInstanceOf(JouleError);
    expect(ex.tryApply(good[1]!)).toMatchObject({ success: true });
    expect(ex.txCount).toBe(2);
    expect(encodeResult(ex.finish())).toEqual(encodeResult(reference));
  });

  it('an execution failure after validity: fee charged, nonce bumped, tx writes discarded', () => {
    const state = genesis();
    const max = 2n ** 64n - 1n;
    state.setAccount(carol.address, { balance: max - 5n });
    const r = executeBlock(state, [pay(alice, carol, 0, 6n)], ctx, opts); // carol's balance would overflow u64
    expect(r.receipts[0]).toMatchObject({ success: false, code: ErrorCode.CODEC_WRONG_TYPE, feePaid: 10n, events: [] });
    state.apply(r.changes);
    expect(getAccount(state, alice.address)).toMatchObject({ nonce: 1, balance: 10_000n - 10n });
    expect(getAccount(state, carol.address).balance).toBe(max - 5n);
    expect(getAccount(state, proposer.address).balance).toBe(10n);
  });

  it('refuses use after finish()', () => {
    const ex = new BlockExecutor(genesis(), ctx, opts);
    ex.finish();
    expect(() => ex.tryApply(pay(alice, bob, 0, 1n))).toThrow(/finish/);
  });
});
