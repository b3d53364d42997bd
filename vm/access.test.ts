import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { ErrorCode, isFatal } from '../core/errors.ts';
import { DEFAULT_PARAMS } from '../core/params.ts';
import { buildTransfer } from '../core/tx/transfer.ts';
import { decodeTx, encodeTx, type Tx } from '../core/tx.ts';
import { accountKey, kindPrefix, StatePrefix } from '../state/keys.ts';
import { StateAccessError } from '../state/loaded-state.ts';
import { CLOSE_QUEUE_PREFIX } from '../core/state-keys.ts';
import { AccessGuard, blockAccess, endBlockAccess, endBlockDependentAccess, mergeAccess, txAccess } from './access.ts';
import { executeBlock } from './executor.ts';
import { MemoryState, testKey } from './testing/fixtures.ts';
import { transferHandler } from './transfer.ts';
import type { BlockContext, EndBlockHook } from './types.ts';

const chainId = 'joule-test';
const alice = testKey(1);
const bob = testKey(2);
const proposer = testKey(100);
const ctx: BlockContext = { chainId, height: 3, timestamp: 1_700_000_000_000, proposer: proposer.address, params: DEFAULT_PARAMS };
const hex = (keys: readonly Uint8Array[] | undefined) => (keys ?? []).map(toHex).sort();

function pay(nonce: number): Tx {
  return buildTransfer({ chainId, seed: alice.seed, nonce, fee: 10n, to: bob.address, amount: 5n });
}

function funded(): MemoryState {
  const s = new MemoryState();
  s.setAccount(alice.address, { balance: 1_000n });
  return s;
}

/** Runs `f` with the transfer handler declaring `keys` instead of its real access list. */
function withTransferKeys<T>(keys: typeof transferHandler.keys, f: () => T): T {
  const real = transferHandler.keys;
  (transferHandler as { keys?: typeof real }).keys = keys;
  try {
    return f();
  } finally {
    (transferHandler as { keys?: typeof real }).keys = real;
  }
}

describe('access lists', () => {
  it('a tx reads its sender and what its handler declares; a block adds the proposer', () => {
    expect(hex(txAccess(pay(0)).keys)).toEqual(hex([accountKey(alice.address), accountKey(bob.address)]));
    const block = blockAccess([pay(0), pay(1)], ctx);
    expect(hex(block.keys)).toEqual(hex([accountKey(alice.address), accountKey(bob.address), accountKey(proposer.address)]));
  });

  it('a tx with an undecodable body or an unknown type reads only its sender (validity rejects it)', () => {
    const good = pay(0);
    const garbled = decodeTx(encodeTx({ ...good, body: new Uint8Array([0xc1]) }));
    expect(hex(txAccess(garbled).keys)).toEqual(hex([accountKey(alice.address)]));
    const unknown = decodeTx(encodeTx({ ...good, type: 250 }));
    expect(hex(txAccess(unknown).keys)).toEqual(hex([accountKey(alice.address)]));
  });

  it('strict mode: a handler reading a key it did not declare fails loudly, whatever the block loaded', () => {
    // bob's account is in the state and was even read by an earlier tx's declared list: still refused
    const state = funded();
    state.setAccount(bob.address, { balance: 1n });
    let thrown: unknown;
    try {
      withTransferKeys(
        () => [],
        () => executeBlock(state, [pay(0)], ctx),
      );
    } catch (e) {
      thrown = e;
    }
    // a fatal node error naming the key, never BLOCK_INVALID (a verdict on the block)
    expect(thrown).toMatchObject({ code: ErrorCode.STATE_UNDECLARED_READ });
    expect(isFatal(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(new RegExp(`read key 0x${toHex(accountKey(bob.address))}`));
    // the same wrong list outside strict mode runs (the node's loaded state serves and reports such reads)
    const lax = withTransferKeys(
      () => [],
      () => executeBlock(state, [pay(0)], ctx, { strictAccess: false }),
    );
    expect(lax.receipts[0]!.success).toBe(true);
    // and the real declaration passes strict mode
    expect(executeBlock(state, [pay(0)], ctx).receipts[0]!.success).toBe(true);
  });

  it('the guard allows declared keys and declared prefixes only, for reads and listings', () => {
    const state = funded();
    const guard = new AccessGuard(state, { keys: [accountKey(alice.address)], prefixes: [kindPrefix(StatePrefix.validatorVote)] }, () => 'test');
    expect(guard.get(accountKey(alice.address))).toBeDefined();
    expect([...guard.iterate(Uint8Array.of(StatePrefix.validatorVote, 7))]).toEqual([]);
    expect(() => guard.get(accountKey(bob.address))).toThrowError(StateAccessError);
    expect(() => guard.iterate(kindPrefix(StatePrefix.account))).toThrowError(/test listed prefix 0x01/);
  });

  it('the guard lets a key through when one declared prefix, of any length, begins it', () => {
    const bytes = fc.uint8Array({ minLength: 0, maxLength: 4 }).map((k) => k.map((b) => b % 3));
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 8 }), bytes, (prefixes, key) => {
        const guard = new AccessGuard(new MemoryState(), { keys: [], prefixes }, () => 'test');
        const under = prefixes.some((p) => p.length <= key.length && p.every((b, i) => key[i] === b));
        if (under) expect(guard.get(key)).toBeUndefined();
        else expect(() => guard.get(key)).toThrowError(StateAccessError);
      }),
      { numRuns: 300 },
    );
  });

  it('strict mode: an end-of-block hook reading outside its declared prefixes fails the block with HOOK_FAILED (fatal)', () => {
    const state = funded();
    const hook = (prefixes: Uint8Array[]): EndBlockHook => ({
      name: 'test-reader',
      order: 0,
      workPerBlock: 1,
      prefixes: () => prefixes,
      run(s) {
        s.get(accountKey(bob.address));
        return [];
      },
    });
    let thrown: unknown;
    try {
      executeBlock(state, [], ctx, { endBlockHooks: [hook([kindPrefix(StatePrefix.validatorVote)])] });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: ErrorCode.HOOK_FAILED, field: 'endBlock.test-reader' });
    expect((thrown as Error).message).toMatch(/end-of-block hook test-reader read key 0x01/);
    expect(isFatal(thrown)).toBe(true);
    // declared (the whole account kind), it runs; outside strict mode the wrong list runs too
    expect(() => executeBlock(state, [], ctx, { endBlockHooks: [hook([kindPrefix(StatePrefix.account)])] })).not.toThrow();
    expect(() => executeBlock(state, [], ctx, { endBlockHooks: [hook([])], strictAccess: false })).not.toThrow();
  });

  it("a hook may declare a queue's head (ranges) and what its entries name (dependent), checked by the strict guard", () => {
    const state = funded();
    // A queue of one entry naming an account to read: the account key depends on the queue.
    const queue = kindPrefix(StatePrefix.chainMeta);
    state.set(new Uint8Array([...queue, 1]), bob.address);
    const named = (s: { iterate(p: Uint8Array): IterableIterator<readonly [Uint8Array, Uint8Array]> }) => [...s.iterate(queue)].map(([, v]) => accountKey(v));
    const hook = (dependent: boolean): EndBlockHook => ({
      name: 'test-queue',
      order: 0,
      workPerBlock: 1,
      prefixes: () => [],
      ranges: () => [{ prefix: queue, limit: 2 }],
      ...(dependent ? { dependent: (_b: BlockContext, declared: MemoryState) => ({ keys: named(declared), prefixes: [] }) } : {}),
      run(s) {
        for (const k of named(s)) s.get(k);
        return [];
      },
    });
    expect(() => executeBlock(state, [], ctx, { endBlockHooks: [hook(true)] })).not.toThrow();
    expect(() => executeBlock(state, [], ctx, { endBlockHooks: [hook(false)] })).toThrowError(/test-queue read key 0x01/);
  });

  it("the block loads hooks' slices with their declaration, and what they name next (endBlockDependentAccess)", () => {
    const close = endBlockAccess(ctx);
    expect(close.ranges?.map((r) => toHex(r.prefix))).toContain(toHex(CLOSE_QUEUE_PREFIX));
    // The agreements' hook declares the clearing's heads too (vm/markets/clearing.ts clearedThrough): loaded once.
    expect(mergeAccess([close]).ranges!.length).toBeLessThan(close.ranges!.length);
    expect(mergeAccess([close, close]).ranges).toEqual(mergeAccess([close]).ranges);
    expect(endBlockDependentAccess(ctx, new MemoryState())).toEqual({ keys: [], prefixes: [] });
  });
});
