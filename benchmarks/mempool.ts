/**
 * Mempool throughput: admissions per second (plain and while evicting), and the cost of
 * building a 10,000-tx block from a 50,000-tx pool, then removing it. Fake, pre-built txs:
 * signatures and decoding are not the mempool's job and are measured elsewhere.
 *
 * The same figures for the tiered pool (four tiers, the node's tier bounds and reserves,
 * a device per grid tx, blocks with the chain's minimum shares) are measured in the same
 * run next to the single-tier pool's, which is their ceiling: what the tiers cost is the
 * gap between the two. Plus the block's tier mix under a grid flood (each tier's share).
 *
 *   npx node benchmarks/mempool.ts
 */
import { mulberry32 } from '../core/prng.ts';
import type { Tx } from '../core/tx.ts';
import { fakeSender, fakeTx } from '../mempool/testing/fake-tx.ts';
import { DEFAULT_PARAMS } from '../core/params.ts';
import { TIER_DEFAULTS, type MempoolLimits } from '../mempool/limits.ts';
import { Mempool } from '../mempool/mempool.ts';
import type { SelectLimits } from '../mempool/select.ts';
import type { Tier } from '../mempool/tiers.ts';
import { median, msSince as ms } from './timing.ts';

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
  tier?: Tier[];
  devices?: (readonly string[] | undefined)[];
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

function fill(pool: Mempool, w: Workload): number {
  let refused = 0;
  for (let i = 0; i < w.txs.length; i++) {
    const tx = w.txs[i]!;
    const devices = w.devices?.[i];
    try {
      pool.add(tx, {
        priority: w.priority[i]!,
        tier: w.tier?.[i] ?? 'peer_to_peer',
        ...(devices ? { devices } : {}),
        accountNonce: 0,
        balance: RICH,
        cost: tx.fee,
        now: 0,
      });
    } catch {
      refused++; // a full tier refuses its lowest newcomers (tiered runs only)
    }
  }
  return refused;
}

/** The workload's senders spread over the tiers (by sender: 1 % system, 59 % grid with a device each, 25 % p2p, 15 % carbon). */
function tiered(w: Workload): Workload {
  const tierOf = (sender: number): Tier => {
    const r = sender % 100;
    return r === 0 ? 'system' : r < 60 ? 'grid_balancing' : r < 85 ? 'peer_to_peer' : 'carbon_credit';
  };
  const sender = (tx: Tx) => new DataView(tx.from.buffer, tx.from.byteOffset).getUint32(0);
  return {
    ...w,
    tier: w.txs.map((tx) => tierOf(sender(tx))),
    devices: w.txs.map((tx) => (tierOf(sender(tx)) === 'grid_balancing' ? [`meter-${sender(tx) % 20_000}`] : undefined)),
  };
}

const SHARES: SelectLimits['shares'] = Object.fromEntries(DEFAULT_PARAMS.tiers.map((t) => [t.name, t.minBlockShareBps]));

interface Figures {
  addPerS: number;
  evictPerS: number;
  selectMs: number;
  selectSendersMs: number;
  commitMs: number;
  refused: number;
}

/** One configuration's figures: `tiers` false is the single-tier pool, true the node's tiered one. */
async function measure(tiers: boolean): Promise<Figures> {
  const shape = tiers ? tiered : (w: Workload) => w;
  const base = shape(workload(POOL_TXS, 0, 1));
  // Higher priorities than anything in `base`, so every admission into a full pool evicts.
  const extra = shape(workload(BLOCK_TXS, 1_000_000, 2, 1_000_000));
  // Worst case for select: every tx its own sender, so 50,000 nonce look-ups and heap items.
  const singles = shape(workload(POOL_TXS, 2_000_000, 3, 0, 1));
  const zeroNonce = () => 0;
  const limits: MempoolLimits = tiers ? { ...LIMITS, ...TIER_DEFAULTS, maxPerDevice: 64 } : LIMITS;
  const block: SelectLimits = { maxTxs: BLOCK_TXS, maxBytes: 1 << 30, ...(tiers ? { shares: SHARES } : {}) };

  const addMs: number[] = [];
  const evictMs: number[] = [];
  const selectMs: number[] = [];
  const selectSinglesMs: number[] = [];
  const commitMs: number[] = [];
  let refused = 0;
  for (let r = 0; r < RUNS; r++) {
    const pool = new Mempool(limits);
    let t = process.hrtime.bigint();
    refused = fill(pool, base);
    addMs.push(ms(t));

    t = process.hrtime.bigint();
    const txs = pool.select(block, zeroNonce);
    selectMs.push(ms(t));
    if (txs.length !== BLOCK_TXS) throw new Error(`select returned ${txs.length}, expected ${BLOCK_TXS}`);

    // Account nonces after the block: every sender with txs in it moved past its last one.
    const after = new Map<Uint8Array, number>();
    for (const tx of txs) after.set(tx.from, tx.nonce + 1);
    t = process.hrtime.bigint();
    pool.removeCommitted(txs, (from) => ({ nonce: after.get(from) ?? 0, balance: RICH }), 1);
    commitMs.push(ms(t));

    const full = new Mempool({ ...limits, maxTxs: POOL_TXS });
    fill(full, base);
    t = process.hrtime.bigint();
    fill(full, extra);
    evictMs.push(ms(t));
    if (full.size > POOL_TXS) throw new Error(`eviction run ended with ${full.size} txs`);

    const wide = new Mempool(limits);
    fill(wide, singles);
    t = process.hrtime.bigint();
    if (wide.select(block, zeroNonce).length !== BLOCK_TXS) throw new Error('short select');
    selectSinglesMs.push(ms(t));
    await new Promise((res) => setImmediate(res)); // let GC and other work breathe between runs
  }
  return {
    addPerS: Math.round(base.txs.length / (median(addMs) / 1000)),
    evictPerS: Math.round(BLOCK_TXS / (median(evictMs) / 1000)),
    selectMs: Number(median(selectMs).toFixed(2)),
    selectSendersMs: Number(median(selectSinglesMs).toFixed(2)),
    commitMs: Number(median(commitMs).toFixed(2)),
    refused,
  };
}

/**
 * A grid flood: 40,000 grid txs paying 100x the others, plus 2,000 peer-to-peer and
 * 2,000 carbon-credit txs, in a pool with the node's tier bounds; the first block's tier
 * mix (percent of its txs) and how many of the non-grid txs got into the pool.
 */
function flood(): Record<string, number> {
  const pool = new Mempool({ ...LIMITS, maxTxs: POOL_TXS, ...TIER_DEFAULTS });
  const add = (sender: number, nonce: number, fee: bigint, tier: Tier) => {
    const tx = fakeTx(fakeSender(sender), nonce, fee, { size: TX_BYTES });
    try {
      pool.add(tx, { priority: fee, tier, accountNonce: 0, balance: RICH, cost: fee, now: 0 });
      return 1;
    } catch {
      return 0;
    }
  };
  for (let i = 0; i < 40_000; i++) add(5_000_000 + (i % 1000), Math.floor(i / 1000), 1_000n, 'grid_balancing');
  let others = 0;
  for (let i = 0; i < 2_000; i++) others += add(6_000_000 + i, 0, 10n, 'peer_to_peer') + add(7_000_000 + i, 0, 10n, 'carbon_credit');
  const txs = pool.select({ maxTxs: BLOCK_TXS, maxBytes: 1 << 30, shares: SHARES }, () => 0);
  const share = (tier: Tier) => Math.round((txs.filter((t) => pool.meta(t.hash)!.tier === tier).length * 100) / txs.length);
  return {
    'mempool.flood_others_admitted_pct': Math.round((others * 100) / 4_000),
    'mempool.flood_block_grid_pct': share('grid_balancing'),
    'mempool.flood_block_p2p_pct': share('peer_to_peer'),
    'mempool.flood_block_carbon_pct': share('carbon_credit'),
  };
}

export async function runMempoolBenchmarks(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  for (const [prefix, tiers] of [
    ['mempool', false],
    ['mempool.tiered', true],
  ] as const) {
    const f = await measure(tiers);
    results[`${prefix}.add_per_s`] = f.addPerS;
    results[`${prefix}.add_evicting_per_s`] = f.evictPerS;
    results[`${prefix}.select_10k_of_50k_ms`] = f.selectMs;
    results[`${prefix}.select_10k_of_50k_senders_ms`] = f.selectSendersMs;
    results[`${prefix}.remove_committed_10k_ms`] = f.commitMs;
    if (tiers) results[`${prefix}.refused_by_tier_bounds`] = f.refused;
  }
  return { ...results, ...flood() };
}

/** One line per figure, for the combined report: the tiered pool next to its single-tier ceiling. */
export function formatMempoolBenchmarks(r: Record<string, number>): string {
  const row = (label: string, key: string, unit: string) => {
    const plain = r[`mempool.${key}`]!;
    const tiered = r[`mempool.tiered.${key}`]!;
    const pct = unit === 'tx/s' ? Math.round((tiered * 100) / plain) : Math.round((plain * 100) / tiered);
    return `  ${label.padEnd(30)} ${plain.toLocaleString('en').padStart(12)} ${tiered.toLocaleString('en').padStart(12)} ${unit.padEnd(5)} (tiered at ${pct} % of the ceiling)`;
  };
  return [
    `mempool (${POOL_TXS} txs of ${TX_BYTES} B from ${POOL_TXS / PER_SENDER} senders, median of ${RUNS} runs; single tier = ceiling, tiered = node's bounds and shares)`,
    `  ${''.padEnd(30)} ${'single tier'.padStart(12)} ${'tiered'.padStart(12)}`,
    row('add into empty pool', 'add_per_s', 'tx/s'),
    row('add into full pool (evicting)', 'add_evicting_per_s', 'tx/s'),
    row(`select ${BLOCK_TXS} of ${POOL_TXS}`, 'select_10k_of_50k_ms', 'ms'),
    row(`select ${BLOCK_TXS} of ${POOL_TXS}, 1 tx/sender`, 'select_10k_of_50k_senders_ms', 'ms'),
    row(`removeCommitted ${BLOCK_TXS}`, 'remove_committed_10k_ms', 'ms'),
    `  tiered fill refused by tier bounds: ${r['mempool.tiered.refused_by_tier_bounds']} of ${POOL_TXS}`,
    `  grid flood (40,000 grid at 100x the fee, 2,000 p2p, 2,000 carbon): p2p and carbon admitted ${r['mempool.flood_others_admitted_pct']} %;` +
      ` first block grid ${r['mempool.flood_block_grid_pct']} % / p2p ${r['mempool.flood_block_p2p_pct']} % / carbon ${r['mempool.flood_block_carbon_pct']} %`,
  ].join('\n');
}

if (import.meta.main) {
  console.log(formatMempoolBenchmarks(await runMempoolBenchmarks()));
}
