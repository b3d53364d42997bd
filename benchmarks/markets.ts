/**
 * The double auction and settlement inside block execution (vm/markets/), on an in-memory
 * sorted state (the VM's cost, not the disk's: state/'s benchmarks measure that):
 *   1. one market of 100,000 orders cleared by the clearing hook: its pricing walk alone (the
 *      result, read only, in the block the gate closes in), then everything (trades and
 *      settlement queue written, escrow released, the rest refunded) in the blocks its work
 *      budget takes (CLEARING_WORK_PER_BLOCK, 2,500 units, a block) and in one run with no budget;
 *   2. 1,000,000 orders across 100 markets with no budget, market after market (each from
 *      its own state: one overlay of all their writes exceeds the heap);
 *   3. about 10,000 trades settled against meter data (payments, penalties, energy UTXOs moved),
 *      in one run and in the blocks its work budget takes (SETTLEMENT_WORK_PER_BLOCK).
 * Each next to its ceiling measured in the same run: a plain sort of the same orders
 * (vm/markets/auction.ts sortBids + sortAsks), the step the hook replaces by the books'
 * key order. Time (median of runs where cheap) and memory (heap growth); for the budgeted
 * blocks also the most state writes one of them made, each a path of the state tree that
 * every validator hashes before it votes (a block's time within the round timer).
 * Run alone: `npx node --expose-gc benchmarks/markets.ts` (`--one-market`: parts 1 and 3 only); without
 * --expose-gc nothing is collected before a heap figure, which may then come out negative.
 */
import { mintedUtxoId } from '../core/energy.ts';
import { decodeMarket, emptyMarket, isPriced, orderId, type Side } from '../core/market.ts';
import { DEVNET_PARAMS } from '../core/params.ts';
import { encodeAccount, EMPTY_ACCOUNT } from '../state/accounts.ts';
import { putUtxo } from '../state/energy.ts';
import { accountKey } from '../state/keys.ts';
import { bookKey, putMarket } from '../state/markets.ts';
import { byteId, iterationStart, StateOverlay, type StateChange, type StateEntry, type StateReader } from '../state/overlay.ts';
import { putIntervalTotals } from '../state/telemetry.ts';
import { encodeBookOrder } from '../core/market.ts';
import { clearAuction, sortAsks, sortBids, type AuctionOrder } from '../vm/markets/auction.ts';
import { CLEARING_WORK_PER_BLOCK, clearDueMarkets } from '../vm/markets/clearing.ts';
import { PRICING_STEPS_PER_UNIT } from '../vm/markets/pricing.ts';
import { SETTLEMENT_WORK_PER_BLOCK, settleTrades } from '../vm/markets/settlement.ts';
import type { BlockContext, WorkBudget } from '../vm/types.ts';
import { workBudget } from '../vm/end-block.ts';
import { secondsSince as seconds } from './timing.ts';

/** CPU time of this process since `start` (process.cpuUsage()), in ms: on a shared machine the wall time also counts waiting for a core. */
const cpuMs = (start: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
};
const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const params = DEVNET_PARAMS;
const I0 = 1_800_000_000_000 - (1_800_000_000_000 % params.settlementIntervalMs);

/**
 * A sorted in-memory state: binary search to a prefix, lazy iteration (MemoryState sorts per
 * call). Sorted when changes are applied, which is outside the time measured, as a loaded
 * state's ranges come sorted from the store.
 */
class SortedState implements StateReader {
  private keys: string[] = [];
  /** The entries in the order of `keys`, listed as a loaded state lists its ranges: no lookup per entry. */
  private entries: StateEntry[] = [];
  private readonly data = new Map<string, StateEntry>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.data.get(byteId(key))?.[1];
  }

  /** Keys deleted from `data` but still in `keys`: dropped at the next apply, so no iteration walks past them (a loaded state's ranges hold none). */
  private stale = 0;

  apply(changes: readonly StateChange[]): void {
    const added: string[] = [];
    for (const c of changes) {
      const id = byteId(c.key);
      if (c.value === undefined) {
        if (this.data.delete(id)) this.stale++;
      } else {
        if (!this.data.has(id)) added.push(id);
        this.data.set(id, [c.key, c.value]);
      }
    }
    if (this.stale > 0) {
      this.keys = this.keys.filter((k) => this.data.has(k));
      this.stale = 0;
    }
    if (added.length > 0) this.merge(added);
    this.entries = this.keys.map((k) => this.data.get(k)!);
  }

  private merge(added: string[]): void {
    // Merged in, not sorted again: a block adds a few thousand keys to millions.
    added.sort();
    const old = this.keys;
    const out = new Array<string>(old.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < added.length) {
      if (old[i] === added[j])
        j++; // a key deleted and written again: still listed (stale), listed once
      else out[k++] = old[i]! < added[j]! ? old[i++]! : added[j++]!;
    }
    while (i < old.length) out[k++] = old[i++]!;
    while (j < added.length) out[k++] = added[j++]!;
    out.length = k;
    this.keys = out;
  }

  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    const p = byteId(prefix);
    const start = byteId(iterationStart(prefix, from));
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.keys.length; i++) {
      if (!this.keys[i]!.startsWith(p)) return;
      yield this.entries[i]!;
    }
  }
}

/** A deterministic spread of orders: prices 1..1000 (micro-units per kWh, scaled), volumes 1..10,000 Wh. */
function orders(n: number, seed: number): { side: Side; price: bigint; volumeWh: bigint; owner: number }[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return Array.from({ length: n }, (_, i) => {
    const side: Side = i % 2 === 0 ? 'bid' : 'ask';
    // Bids around 500-1500, asks around 0-1000: about half of each side crosses.
    const price = BigInt((side === 'bid' ? 500 : 1) + (next() % 1000)) * 100n;
    return { side, price, volumeWh: BigInt(1 + (next() % 10_000)), owner: i };
  });
}

const addr = (i: number): Uint8Array => {
  const a = new Uint8Array(20);
  new DataView(a.buffer).setUint32(0, i + 1);
  return a;
};

/** Books of `markets` markets of `perMarket` orders each, as order-place would leave them (escrow and collateral locked). */
function books(markets: number, perMarket: number, first = 0): { state: SortedState; all: AuctionOrder[][] } {
  const state = new SortedState();
  const o = new StateOverlay(state);
  const all: AuctionOrder[][] = [];
  for (let m = first; m < first + markets; m++) {
    const zone = `Z${String(m).padStart(3, '0')}`;
    const os = orders(perMarket, 7 + m);
    let bids = 0;
    const mine: AuctionOrder[] = [];
    os.forEach((x, i) => {
      const deviceId = x.side === 'ask' ? `pv-${m}-${i}` : undefined;
      const id = orderId({ zone, intervalStartMs: I0, side: x.side, price: x.price, height: 1 + (i >> 12), index: i & 4095, deviceId });
      const locked = x.side === 'bid' ? (x.volumeWh * x.price + 999n) / 1000n : 0n;
      o.set(bookKey(x.side, id), encodeBookOrder({ owner: addr(i), volumeWh: x.volumeWh, deviceId, locked }));
      mine.push({ id: `${x.side}${i}`, price: x.price, volumeWh: x.volumeWh, height: 1 + (i >> 12), index: i & 4095 });
      if (x.side === 'bid') bids++;
    });
    putMarket(o, { ...emptyMarket(zone, I0), bids, asks: perMarket - bids });
    all.push(mine);
  }
  for (let i = 0; i < perMarket; i++) o.set(accountKey(addr(i)), encodeAccount({ ...EMPTY_ACCOUNT, balance: 0n, locked: 10n ** 15n }));
  state.apply(o.changes());
  return { state, all };
}

const block = (height: number, timestamp: number): BlockContext => ({ chainId: 'bench', params, height, timestamp, proposer: addr(999_999) });

/**
 * Runs `hook` block after block (each a fresh overlay, committed to the state) until a
 * block finds no work (changes nothing; not counted). Measured per block: the hook and the
 * overlay's sorted changes (what execution hands the node), not the commit into this
 * state; and the state writes of the block that wrote most, which the node then hashes
 * into the tree and commits (the close's blocks write at most about 1,750:
 * vm/telemetry/close.ts).
 */
function blocks(
  state: SortedState,
  run: (o: StateOverlay, b: BlockContext, budget: WorkBudget) => unknown[],
  units: number,
  timestamp: number,
  maxBlocks = Infinity,
) {
  let n = 0;
  let worst = 0;
  let total = 0;
  let cpu = 0;
  let first = 0;
  let mostWrites = 0;
  while (n < maxBlocks) {
    const o = new StateOverlay(state);
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    const budget = workBudget(units);
    run(o, block(100 + n, timestamp), budget);
    const changes = o.changes();
    const s = seconds(t);
    // A block that changed nothing found no work: the run ended with the block before it.
    // (Units left over do not say so: an item draws several, and the next may not fit.)
    if (changes.length === 0) break;
    mostWrites = Math.max(mostWrites, changes.length);
    cpu += cpuMs(c);
    total += s;
    worst = Math.max(worst, s);
    state.apply(changes);
    if (n === 0) first = s;
    n++;
  }
  return { blocks: n, total, cpu, worst, first, mostWrites };
}

function clearing(markets: number, perMarket: number): string[] {
  const lines: string[] = [];
  const { all } = books(markets, perMarket);
  const sortC0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const os of all) {
    sortBids(os.filter((x) => x.id.startsWith('b')));
    sortAsks(os.filter((x) => x.id.startsWith('a')));
  }
  const sortS = seconds(t0);
  const sortCpu = cpuMs(sortC0);
  const t1 = process.hrtime.bigint();
  let trades = 0;
  for (const os of all)
    trades += clearAuction(
      os.filter((x) => x.id.startsWith('b')),
      os.filter((x) => x.id.startsWith('a')),
    ).trades.length;
  const ruleS = seconds(t1);
  const gate = I0 - params.gateClosureLeadMs;
  const n = markets * perMarket;
  lines.push(`clearing ${fmt(n)} orders in ${markets} market(s), ${fmt(trades)} trades`);
  lines.push(`  ceiling  plain sort of the same orders (bids and asks)          ${(sortS * 1000).toFixed(0)} ms, cpu ${sortCpu.toFixed(0)} ms`);
  lines.push(`  the rule in memory (sort + walk, vm/markets/auction.ts)        ${(ruleS * 1000).toFixed(0)} ms`);
  // The hook with no budget: the rule's cost inside block execution in one go.
  const fresh = books(markets, perMarket).state;
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const one = blocks(fresh, clearDueMarkets, Number.MAX_SAFE_INTEGER, gate);
  const heap1 = process.memoryUsage().heapUsed;
  lines.push(
    `  clearing hook, one run, no budget (target < 250 ms for 100,000) ${(one.total * 1000).toFixed(0)} ms, cpu ${one.cpu.toFixed(0)} ms  (${(one.total / sortS).toFixed(1)} x the sort); heap +${mib(heap1 - heap0)} MiB`,
  );
  // The pricing walk alone: a block with just the units it draws (one per PRICING_STEPS_PER_UNIT trades), which ends as matching would begin.
  const pricingUnits = Math.ceil(trades / PRICING_STEPS_PER_UNIT);
  const pricing = books(markets, perMarket).state;
  global.gc?.();
  const pricingHeap0 = process.memoryUsage().heapUsed;
  const priced = blocks(pricing, clearDueMarkets, pricingUnits, gate, 1);
  // After the block (its overlay dropped), before any collection: what the walk allocated.
  const pricingHeap = process.memoryUsage().heapUsed - pricingHeap0;
  const priceOf = [...pricing.iterate(new Uint8Array([0x20, 0x01]))].map(([, v]) => decodeMarket(v));
  lines.push(
    `  the pricing walk alone: P, volume, trades (${fmt(pricingUnits)} units)       ${(priced.total * 1000).toFixed(0)} ms, cpu ${priced.cpu.toFixed(0)} ms (${(priced.total / sortS).toFixed(1)} x the sort), heap +${mib(pricingHeap)} MiB; ${priceOf.filter((m) => m.status === 'matching').length} of ${markets} market(s) priced`,
  );
  global.gc?.();
  const budgeted = blocks(books(markets, perMarket).state, clearDueMarkets, CLEARING_WORK_PER_BLOCK, gate);
  lines.push(
    `  clearing hook, ${fmt(CLEARING_WORK_PER_BLOCK)} units a block                          ${budgeted.blocks} blocks, ${(budgeted.total * 1000).toFixed(0)} ms in all (cpu ${budgeted.cpu.toFixed(0)} ms), worst block ${(budgeted.worst * 1000).toFixed(0)} ms; at most ${fmt(budgeted.mostWrites)} state writes a block`,
    `    the gate block (priced, then its first trades written)        ${(budgeted.first * 1000).toFixed(0)} ms`,
  );
  return lines;
}

/**
 * 1,000,000 orders across 100 markets: what one block with no budget does, the markets
 * cleared one after another (as the hook does, in (interval, zone) order), each from its
 * own state, so the harness never holds every market's writes at once (one overlay of them
 * all exceeds the heap). Against the plain sort of each market's orders, summed.
 */
function manyMarkets(markets: number, perMarket: number): string[] {
  const gate = I0 - params.gateClosureLeadMs;
  let sortS = 0;
  let hookS = 0;
  let hookCpu = 0;
  let worst = 0;
  let trades = 0;
  for (let m = 0; m < markets; m++) {
    const { state, all } = books(1, perMarket, m);
    const os = all[0]!;
    const t0 = process.hrtime.bigint();
    sortBids(os.filter((x) => x.id.startsWith('b')));
    sortAsks(os.filter((x) => x.id.startsWith('a')));
    sortS += seconds(t0);
    const one = blocks(state, clearDueMarkets, Number.MAX_SAFE_INTEGER, gate);
    hookS += one.total;
    hookCpu += one.cpu;
    worst = Math.max(worst, one.total);
    trades += [...state.iterate(new Uint8Array([0x20, 0x08]))].length;
  }
  // All the markets in one state, in the hook's budgeted blocks, until every one is priced:
  // each block's pricing pass prices due markets in order before it writes any effects.
  const { state } = books(markets, perMarket);
  global.gc?.();
  const unpriced = () => [...state.iterate(new Uint8Array([0x20, 0x01]))].filter(([, v]) => !isPriced(decodeMarket(v))).length;
  const perBlock: number[] = [];
  let pricingTotal = 0;
  for (let h = 0; unpriced() > 0 && h < 1000; h++) {
    const one = blocks(state, clearDueMarkets, CLEARING_WORK_PER_BLOCK, gate, 1);
    perBlock.push(markets - unpriced());
    pricingTotal += one.total;
  }
  return [
    `clearing ${fmt(markets * perMarket)} orders in ${markets} markets, ${fmt(trades)} trades (each market from its own state)`,
    `  ceiling  plain sort of each market's orders, summed              ${(sortS * 1000).toFixed(0)} ms`,
    `  clearing hook, no budget, the markets one after another        ${(hookS * 1000).toFixed(0)} ms, cpu ${hookCpu.toFixed(0)} ms (${(hookS / sortS).toFixed(1)} x the sort); slowest market ${(worst * 1000).toFixed(0)} ms`,
    `  all in one state, ${fmt(CLEARING_WORK_PER_BLOCK)} units a block: every market priced in ${perBlock.length} blocks (${(pricingTotal * 1000).toFixed(0)} ms in all; markets priced after each: ${perBlock.join(', ')})`,
  ];
}

/**
 * The settlement queue of about 10,000 trades in one market (13,400 orders: about three in
 * four trade, as the spread of orders() has it), with meter data for every seller's device.
 */
function settlementState() {
  const orderCount = 13_400;
  const { state } = books(1, orderCount);
  const gate = I0 - params.gateClosureLeadMs;
  blocks(state, clearDueMarkets, Number.MAX_SAFE_INTEGER, gate);
  const o = new StateOverlay(state);
  let devices = 0;
  for (let i = 1; i < orderCount; i += 2) {
    const id = `pv-0-${i}`;
    const owner = addr(i);
    const wh = BigInt(i % 7) * 1000n;
    devices++;
    putIntervalTotals(o, {
      deviceId: id,
      intervalStartMs: I0,
      readings: 1,
      importWh: 0n,
      exportWh: wh,
      status: 'closed',
      mintedWh: wh,
      utxoId: undefined,
      check: undefined,
    });
    if (wh > 0n)
      putUtxo(o, {
        id: mintedUtxoId(id, I0),
        owner,
        wh,
        provenance: { deviceId: id, kind: 'solar', zone: 'Z000', intervalStartMs: I0, intervalEndMs: I0 + params.settlementIntervalMs, carbonIntensity: 30 },
        frozen: false,
        height: 50,
      });
  }
  state.apply(o.changes());
  const queued = [...state.iterate(new Uint8Array([0x20, 0x08]))].length;
  const due = I0 + params.settlementIntervalMs + params.settlementDelayMs;
  return { state, queued, devices, due };
}

/** Settlement of settlementState(): in one run, then from a fresh copy in budgeted blocks. */
function settlement(): string[] {
  const { state, queued, devices, due } = settlementState();
  const one = blocks(state, settleTrades, Number.MAX_SAFE_INTEGER, due);
  const fresh = settlementState();
  const budgeted = blocks(fresh.state, settleTrades, SETTLEMENT_WORK_PER_BLOCK, fresh.due);
  return [
    `settling ${fmt(queued)} trades of ${fmt(devices)} devices (payments, penalties, energy UTXOs moved)`,
    `  settlement hook, one run, no budget                            ${(one.total * 1000).toFixed(0)} ms, cpu ${one.cpu.toFixed(0)} ms (${fmt(queued / one.total)} trades/s); ${fmt(one.mostWrites)} state writes`,
    `  settlement hook, ${fmt(SETTLEMENT_WORK_PER_BLOCK)} units a block                        ${budgeted.blocks} blocks, worst block ${(budgeted.worst * 1000).toFixed(0)} ms; at most ${fmt(budgeted.mostWrites)} state writes a block`,
  ];
}

/** Prints each part as it finishes (the 1,000,000-order part takes minutes on a busy machine; `oneMarket` leaves it out). */
export function runMarketBenchmarks(oneMarket = false): void {
  console.log(clearing(1, 100_000).join('\n'));
  console.log();
  console.log(settlement().join('\n'));
  if (oneMarket) return;
  console.log();
  console.log(manyMarkets(100, 10_000).join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) runMarketBenchmarks(process.argv.includes('--one-market'));
