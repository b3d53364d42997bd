/** A block of a run, and how long the next one took to follow it. */
export interface SlowBlock {
  readonly height: number;
  /** From its timestamp to the next block's, s: what it took to agree on and commit it, when over the block period. */
  readonly toNextS: number;
  /** The first block at or after an interval's settlement time: it runs the interval close (vm/telemetry/close.ts). */
  readonly closesInterval: boolean;
}

/**
 * The `count` blocks followed longest by the next one, slowest first. `blocks`: consecutive,
 * the first one's only as the parent of the second. A block closes an interval when a
 * settlement time (an interval's end plus the delay: n x interval + delay) falls after its
 * parent's time and at or before its own.
 */
export function slowestBlocks(
  blocks: readonly { readonly height: number; readonly timestamp: number }[],
  params: { readonly settlementIntervalMs: number; readonly settlementDelayMs: number },
  count = 3,
): SlowBlock[] {
  const settled = (t: number) => Math.floor((t - params.settlementDelayMs) / params.settlementIntervalMs);
  const out: SlowBlock[] = [];
  for (let i = 1; i + 1 < blocks.length; i++) {
    const [parent, block, next] = [blocks[i - 1]!, blocks[i]!, blocks[i + 1]!];
    out.push({
      height: block.height,
      toNextS: (next.timestamp - block.timestamp) / 1000,
      closesInterval: settled(block.timestamp) > settled(parent.timestamp),
    });
  }
  return out.sort((a, b) => b.toNextS - a.toNextS || a.height - b.height).slice(0, count);
}
