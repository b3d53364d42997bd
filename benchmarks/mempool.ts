/**
 * Mempool throughput: admissions per second (plain and while evicting), and the cost of
 * building a 10,000-tx block from a 50,000-tx pool, then removing it. Fake, pre-built txs:
 * signatures and decoding are not the mempool's job and are measured elsewhere.
 *
 *   npx node benchmarks/mempool.ts
 */
import { mulberry32 } from '../core/prng.ts';
import type { Tx } from '../core/tx.ts';
import { fakeSender, fakeTx } from '../mempool/testing/fake-tx.ts';
import type { MempoolLimits } from '../mempool/limits.ts';
import { Mempool } from '../mempool/mempool.ts';

const POOL_TXS = 50_000;
const BLOCK_TXS = 10_000;
const PER_SENDER = 10;
const TX_BYTES = 200;
const RUNS = 5;

const RICH = 10n ** 30n;
const LIMITS: MempoolLimits = { maxTxs: 100_000, maxBytes: 1 << 30, maxPerSender: 64, maxNonceGap: 64, replaceBumpPercent: 10 };

interface Workload {
  txs: Tx[];
  priority: bigint[];
}

/** `count` txs from count/perSender senders, nonces 0..perSender-1, random priorities. */
function workload(count: number, firstSender: number, seed: number, minPriority = 0, perSender = PER_SENDER): Workload {
  const rand = mulberry32(seed);
  const txs: Tx[] = [];
  const priority: bigint[] = [];
  for (let s = 0; s < count / perSender; s++) {
    const from = fakeSender(firstSender + s); // one shared array per sender, as decoded txs would not be
    for (let n = 0; n < perSender; n++) {
      const p = BigInt(minPriority + Math.floor(rand() * 1_000_000));
      txs.push(fakeTx(from, n, p, { size: TX_BYTES }));
      priority.push(p);
    }
  }
  return { txs, priority };
}

function fill(pool: Mempool, w: Workload): void {
  for (let i = 0; i < w.txs.length; i++) {
    const tx = w.txs[i]!;
    pool.add(tx, { priority: w.priority[i]!, tier: 'peer_to_peer', accountNonce: 0, balance: RICH, cost: tx.fee, now: 0 });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function runMempoolBenchmarks(): Promise<Record<string, number>> {
  const base = workload(POOL_TXS, 0, 1);
  // Higher priorities than anything in `base`, so every admission into a full pool evicts.
  const extra = workload(BLOCK_TXS, 1_000_000, 2, 1_000_000);
  // Worst case for select: every tx its own sender, so 50,000 nonce look-ups and heap items.
  const singles = workload(POOL_TXS, 2_000_000, 3, 0, 1);
  const zeroNonce = () => 0;

  const addMs: number[] = [];
  const evictMs: number[] = [];
  const selectMs: number[] = [];
  const selectSinglesMs: number[] = [];
  const commitMs: number[] = [];
  let selected = 0;
  for (let r = 0; r < RUNS; r++) {
    const pool = new Mempool(LIMITS);
    let t = process.hrtime.bigint();
    fill(pool, base);
    addMs.push(ms(t));

    t = process.hrtime.bigint();
    const block = pool.select({ maxTxs: BLOCK_TXS, maxBytes: 1 << 30 }, zeroNonce);
    selectMs.push(ms(t));
    selected = block.length;

    // Account nonces after the block: every sender with txs in it moved past its last one.
    const after = new Map<Uint8Array, number>();
    for (const tx of block) after.set(tx.from, tx.nonce + 1);
    t = process.hrtime.bigint();
    pool.removeCommitted(block, (from) => ({ nonce: after.get(from) ?? 0, balance: RICH }));
    commitMs.push(ms(t));

    const full = new Mempool({ ...LIMITS, maxTxs: POOL_TXS });
    fill(full, base);
    t = process.hrtime.bigint();
    fill(full, extra);
    evictMs.push(ms(t));
    if (full.size !== POOL_TXS) throw new Error(`eviction run ended with ${full.size} txs`);

    const wide = new Mempool(LIMITS);
    fill(wide, singles);
    t = process.hrtime.bigint();
    if (wide.select({ maxTxs: BLOCK_TXS, maxBytes: 1 << 30 }, zeroNonce).length !== BLOCK_TXS) throw new Error('short select');
    selectSinglesMs.push(ms(t));
    await new Promise((res) => setImmediate(res)); // let GC and other work breathe between runs
  }
  if (selected !== BLOCK_TXS) throw new Error(`select returned ${selected}, expected ${BLOCK_TXS}`);

  const results: Record<string, number> = {
    'mempool.add_per_s': Math.round(POOL_TXS / (median(addMs) / 1000)),
    'mempool.add_evicting_per_s': Math.round(BLOCK_TXS / (median(evictMs) / 1000)),
    'mempool.select_10k_of_50k_ms': Number(median(selectMs).toFixed(2)),
    'mempool.select_10k_of_50k_senders_ms': Number(median(selectSinglesMs).toFixed(2)),
    'mempool.remove_committed_10k_ms': Number(median(commitMs).toFixed(2)),
  };
  return results;
}

/** One line per figure, for the combined report. */
export function formatMempoolBenchmarks(r: Record<string, number>): string {
  return [
    `mempool (${POOL_TXS} txs of ${TX_BYTES} B from ${POOL_TXS / PER_SENDER} senders, median of ${RUNS} runs)`,
    `  add into empty pool           ${r['mempool.add_per_s']!.toLocaleString('en')} tx/s`,
    `  add into full pool (evicting) ${r['mempool.add_evicting_per_s']!.toLocaleString('en')} tx/s`,
    `  select ${BLOCK_TXS} of ${POOL_TXS}          ${r['mempool.select_10k_of_50k_ms']} ms`,
    `  select ${BLOCK_TXS} of ${POOL_TXS}, 1 tx/sender ${r['mempool.select_10k_of_50k_senders_ms']} ms`,
    `  removeCommitted ${BLOCK_TXS}        ${r['mempool.remove_committed_10k_ms']} ms`,
  ].join('\n');
}

if (import.meta.main) {
  console.log(formatMempoolBenchmarks(await runMempoolBenchmarks()));
}
