import { describe, expect, it } from 'vitest';
import { concatBytes, readU64be, toHex, u64be, utf8 } from '../core/bytes.ts';
import { encode } from '../core/codec.ts';
import { ErrorCode, isFatal, JouleError } from '../core/errors.ts';
import { DEFAULT_PARAMS } from '../core/params.ts';
import { StatePrefix, stateKey } from '../core/state-keys.ts';
import type { StateOverlay } from '../state/overlay.ts';
import { MAX_END_BLOCK_WORK, orderHooks } from './end-block.ts';
import { BlockExecutor, executeBlock } from './executor.ts';
import { MemoryState, testKey } from './testing/fixtures.ts';
import type { BlockContext, BlockResult, EndBlockHook } from './types.ts';

const proposer = testKey(100).address;
const ctx = (height: number): BlockContext => ({
  chainId: 'joule-test',
  params: DEFAULT_PARAMS,
  height,
  timestamp: 1_700_000_000_000 + height * 1000,
  proposer,
});

// A stand-in for order clearing: `pending` items queued in the state, settled one work
// unit each, in queue order, resuming at a cursor kept in the state.
const key = (name: string) => stateKey(StatePrefix.chainMeta, utf8(`test-queue/${name}`));
const PENDING = key('pending');
const CURSOR = key('cursor');
const settledKey = (i: number) => concatBytes(key('settled/'), u64be(i));
const readCount = (state: { get(k: Uint8Array): Uint8Array | undefined }, k: Uint8Array) => {
  const v = state.get(k);
  return v === undefined ? 0 : readU64be(v);
};

function queueHook(workPerBlock: number): EndBlockHook {
  return {
    name: 'test-settle',
    order: 10,
    workPerBlock,
    prefixes: () => [key('')],
    run(state: StateOverlay, block: BlockContext, budget) {
      const pending = readCount(state, PENDING);
      let cursor = readCount(state, CURSOR);
      const start = cursor;
      while (cursor < pending && budget.take()) {
        state.set(settledKey(cursor), encode([block.height]));
        cursor++;
      }
      if (cursor !== start) state.set(CURSOR, u64be(cursor));
      return [
        {
          type: 'settled',
          attributes: [
            ['count', String(cursor - start)],
            ['remaining', String(pending - cursor)],
          ],
        },
      ];
    },
  };
}

/** Runs blocks 1..n with no txs and `hooks`, committing each block's changes; returns each block's result. */
function runBlocks(n: number, pending: number, hooks: EndBlockHook[]): { state: MemoryState; results: BlockResult[] } {
  const state = new MemoryState();
  state.set(PENDING, u64be(pending));
  const results: BlockResult[] = [];
  for (let h = 1; h <= n; h++) {
    const r = executeBlock(state, [], ctx(h), { endBlockHooks: hooks });
    state.apply(r.changes);
    results.push(r);
  }
  return { state, results };
}

const attributes = (r: BlockResult) => Object.fromEntries(r.events.find((e) => e.type === 'settled')!.attributes);

describe('end-of-block hooks: the work budget', () => {
  it('a hook with more work than one block allows finishes over several blocks, a budget each, in order', () => {
    const { state, results } = runBlocks(4, 25, [queueHook(10)]);
    expect(results.map(attributes)).toEqual([
      { count: '10', remaining: '15' },
      { count: '10', remaining: '5' },
      { count: '5', remaining: '0' },
      { count: '0', remaining: '0' },
    ]);
    // Item i was settled in block floor(i / 10) + 1: nothing skipped, nothing twice.
    for (let i = 0; i < 25; i++) expect(state.get(settledKey(i))).toEqual(encode([Math.floor(i / 10) + 1]));
    expect(state.get(settledKey(25))).toBeUndefined();
  });

  it('is deterministic: the same blocks give the same state changes, byte for byte', () => {
    const fingerprint = () => toHex(encode(runBlocks(3, 25, [queueHook(10)]).results.map((r) => r.changes.map((c) => [c.key, c.value ?? null]))));
    expect(fingerprint()).toBe(fingerprint());
  });

  it('refuses a hook list without a positive budget, over the total, or with a duplicate name; orders by (order, name)', () => {
    const hook = (name: string, order: number, workPerBlock: number): EndBlockHook => ({ name, order, workPerBlock, prefixes: () => [], run: () => [] });
    expect(() => orderHooks([hook('a', 0, 0)])).toThrow(/positive integer/);
    expect(() => orderHooks([hook('a', 0, 1.5)])).toThrow(/positive integer/);
    expect(() => orderHooks([hook('a', 0, MAX_END_BLOCK_WORK), hook('b', 0, 1)])).toThrow(/limit/);
    expect(() => orderHooks([hook('a', 0, 1), hook('a', 1, 1)])).toThrow(/duplicate/);
    expect(orderHooks([hook('c', 2, 1), hook('b', 1, 1), hook('a', 2, 1)]).map((h) => h.name)).toEqual(['b', 'a', 'c']);
  });
});

describe('end-of-block hooks: a failure stops the node, it is never skipped', () => {
  const failing = (error: unknown, atHeight: number): EndBlockHook => ({
    name: 'test-broken',
    order: 0,
    workPerBlock: 1,
    prefixes: () => [],
    run(_state, block) {
      if (block.height === atHeight) throw error;
      return [];
    },
  });

  it('a hook that throws fails the block with HOOK_FAILED naming the hook and the height, a fatal error', () => {
    for (const error of [new TypeError('cannot read x of undefined'), new JouleError(ErrorCode.TX_INVALID_FIELD, 'bad order', 'order')]) {
      const state = new MemoryState();
      let thrown: unknown;
      try {
        executeBlock(state, [], ctx(7), { endBlockHooks: [failing(error, 7)] });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(JouleError);
      expect(thrown).toMatchObject({ code: ErrorCode.HOOK_FAILED, field: 'endBlock.test-broken' });
      expect((thrown as Error).message).toMatch(/hook test-broken failed at height 7/);
      expect(isFatal(thrown)).toBe(true);
    }
  });

  it('a hook that draws a malformed amount of work fails the same way', () => {
    const greedy: EndBlockHook = { name: 'test-greedy', order: 0, workPerBlock: 5, prefixes: () => [], run: (_s, _b, budget) => (budget.take(-1), []) };
    expect(() => executeBlock(new MemoryState(), [], ctx(3), { endBlockHooks: [greedy] })).toThrow(expect.objectContaining({ code: ErrorCode.HOOK_FAILED }));
  });

  it('the executor of a failed block cannot be used to produce a result', () => {
    const ex = new BlockExecutor(new MemoryState(), ctx(2), { endBlockHooks: [failing(new Error('boom'), 2)] });
    expect(() => ex.finish()).toThrow(expect.objectContaining({ code: ErrorCode.HOOK_FAILED }));
    expect(() => ex.finish()).toThrow(/already called/);
  });
});
