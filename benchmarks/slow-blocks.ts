import { intervalOf } from '../core/meter.ts';
import type { EnergyParams } from '../core/params.ts';

/** A block of a run, and how long the next one took to follow it. */
export interface SlowBlock {
  readonly height: number;
  /** From its timestamp to the next block's, s: what it took to agree on and commit it, when over the block period. */
  readonly toNextS: number;
  /** The first block at or after an interval's settlement time: the interval close (vm/telemetry/close.ts) begins in it. */
  readonly closesInterval: boolean;
  /** It minted energy tokens of the fleet: a block of the close, which takes a fleet over several blocks (CLOSE_WORK_PER_BLOCK). */
  readonly mintsTokens: boolean;
}

/**
 * The `count` blocks followed longest by the next one, slowest first. `blocks`: consecutive,
 * the first one's only as the parent of the second. A block closes an interval when one
 * settles after its parent's time and at or before its own (core/meter.ts settlesAt: the
 * first block at or after that time closes it). `minted`: the heights that minted the
 * fleet's tokens (the heights of its UTXOs).
 */
export function slowestBlocks(
  blocks: readonly { readonly height: number; readonly timestamp: number }[],
  params: SettlementTiming,
  count = 3,
  minted: ReadonlySet<number> = new Set(),
): SlowBlock[] {
  const out: SlowBlock[] = [];
  for (let i = 1; i + 1 < blocks.length; i++) {
    const [parent, block, next] = [blocks[i - 1]!, blocks[i]!, blocks[i + 1]!];
    out.push({
      height: block.height,
      toNextS: (next.timestamp - block.timestamp) / 1000,
      closesInterval: lastSettled(block.timestamp, params) > lastSettled(parent.timestamp, params),
      mintsTokens: minted.has(block.height),
    });
  }
  return out.sort((a, b) => b.toNextS - a.toNextS || a.height - b.height).slice(0, count);
}

type SettlementTiming = Pick<EnergyParams, 'settlementIntervalMs' | 'settlementDelayMs'>;

/** The start of the latest interval settled by `timeMs` (block times are far above one interval and its delay). */
function lastSettled(timeMs: number, params: SettlementTiming): number {
  return intervalOf(BigInt(timeMs - params.settlementIntervalMs - params.settlementDelayMs) * 1000n, params.settlementIntervalMs);
}
