import { describe, expect, it } from 'vitest';
import { slowestBlocks } from './slow-blocks.ts';

// A 30 s interval settling 5 s after its end: settlement times at 35, 65, 95 s ... (n x 30 + 5).
const params = { settlementIntervalMs: 30_000, settlementDelayMs: 5_000 };
/** Block times as the chain has them (ms since the epoch), from a moment an interval starts at. */
const T0 = 1_700_000_010_000;
const at = (height: number, seconds: number) => ({ height, timestamp: T0 + seconds * 1000 });

describe('the slowest blocks of a run', () => {
  it('ranks blocks by the time to the next one, slowest first, and marks the one that closes an interval', () => {
    const blocks = [at(10, 33), at(11, 34), at(12, 35.2), at(13, 37.7), at(14, 38.9), at(15, 39.9), at(16, 40.9)];
    expect(slowestBlocks(blocks, params)).toEqual([
      { height: 12, toNextS: 2.5, closesInterval: true, mintsTokens: false },
      { height: 11, toNextS: 1.2, closesInterval: false, mintsTokens: false },
      { height: 13, toNextS: 1.2, closesInterval: false, mintsTokens: false },
    ]);
  });

  it('a block exactly at a settlement time closes it; the next one does not close it again', () => {
    const blocks = [at(1, 64.5), at(2, 65), at(3, 66), at(4, 67)];
    expect(slowestBlocks(blocks, params, 2)).toEqual([
      { height: 2, toNextS: 1, closesInterval: true, mintsTokens: false },
      { height: 3, toNextS: 1, closesInterval: false, mintsTokens: false },
    ]);
  });

  it("marks the blocks that minted the fleet's tokens: the close goes on past the block it begins in", () => {
    const blocks = [at(1, 34.5), at(2, 35.5), at(3, 37), at(4, 38.8), at(5, 39.8), at(6, 40.8)];
    expect(slowestBlocks(blocks, params, 3, new Set([2, 3, 4]))).toEqual([
      { height: 3, toNextS: 1.8, closesInterval: false, mintsTokens: true },
      { height: 2, toNextS: 1.5, closesInterval: true, mintsTokens: true },
      { height: 4, toNextS: 1, closesInterval: false, mintsTokens: true },
    ]);
  });

  it('the first block is only a parent and the last has no next: fewer than three blocks give nothing', () => {
    expect(slowestBlocks([at(1, 1), at(2, 2)], params)).toEqual([]);
  });
});
