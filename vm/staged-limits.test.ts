import { describe, expect, it } from 'vitest';
import { emptyMarket, encodeBookOrder, encodeTrade, orderId } from '../core/market.ts';
import { settlesAt } from '../core/meter.ts';
import { DEVNET_PARAMS } from '../core/params.ts';
import { encodeTimerRefs } from '../core/agreement.ts';
import { MarketBucket } from '../core/state-keys.ts';
import { bookKey, bookPrefix, putMarket, settleItemKey } from '../state/markets.ts';
import { StateOverlay, type StateChange } from '../state/overlay.ts';
import { timerKey } from '../state/agreements.ts';
import { putDevice } from '../state/devices.ts';
import { getDeviceHealth, hasCloseItem, intervalTotalsOf, putCloseItem, putIntervalTotals } from '../state/telemetry.ts';
import { runEndBlockHooks } from './end-block.ts';
import { executeBlock } from './executor.ts';
import { endBlockHooks } from './registry.ts';
import { AGREEMENT_WORK_PER_BLOCK } from './agreements/execution.ts';
import { CLEARING_UNITS, CLEARING_WORK_PER_BLOCK, clearDueMarkets } from './markets/clearing.ts';
import { PRICING_STEPS_PER_UNIT } from './markets/pricing.ts';
import { getMarket } from '../state/markets.ts';
import { workBudget } from './end-block.ts';
import { writeBooks, type BookOrderSpec } from './testing/book.ts';
import { SETTLEMENT_WORK_PER_BLOCK } from './markets/settlement.ts';
import { CLOSE_CATCH_UP_WORK_PER_BLOCK, CLOSE_UNITS, CLOSE_WORK_PER_BLOCK } from './telemetry/close.ts';
import { MemoryState } from './testing/fixtures.ts';
import { loadAsTheNode } from './testing/staged-load.ts';
import type { BlockContext } from './types.ts';

/**
 * The node loads a block's state in stages (vm/access.ts: the hooks' declared slices, then
 * what their due entries name) before it executes: a hook that reads one entry past a slice
 * throws StateAccessError, and every proposer's block would fail the same way, halting the
 * chain. Each queue here holds more due entries than a block's slice of it (what a fleet of
 * 1,012 devices, or a market of 2,502 orders, does).
 */

const params = DEVNET_PARAMS;
const I = 1_800_000_000_000 - (1_800_000_000_000 % params.settlementIntervalMs);

async function stagedLoads(state: MemoryState, timestamp: number): Promise<StateChange[]> {
  const ctx: BlockContext = { chainId: 'staged', params, height: 10, timestamp, proposer: new Uint8Array(20) };
  const loaded = await loadAsTheNode(state, [], ctx);
  // And the block runs on what was loaded: the hooks read nothing else.
  return executeBlock(loaded, [], ctx, { strictAccess: true }).changes;
}

function stateWith(write: (o: StateOverlay) => void): MemoryState {
  const state = new MemoryState();
  const o = new StateOverlay(state);
  write(o);
  state.apply(o.changes());
  return state;
}

describe('staged loads when more is due than one block takes', () => {
  it('a market with more bids past its gate than the clearing reads in a block', async () => {
    const n = CLEARING_WORK_PER_BLOCK + 10;
    const state = stateWith((o) => writeBooks(o, I, [['Z', Array.from({ length: n }, () => ({ side: 'bid' as const, price: 100n, volumeWh: 10n }))]]));
    await expect(stagedLoads(state, I - params.gateClosureLeadMs)).resolves.toBeInstanceOf(Array);
  });

  it('a market of bids only: a whole budget of refunds a block, block after block, within what the node loaded', async () => {
    const n = 2 * CLEARING_WORK_PER_BLOCK;
    const state = stateWith((o) => writeBooks(o, I, [['Z', Array.from({ length: n }, () => ({ side: 'bid' as const, price: 100n, volumeWh: 10n }))]]));
    const gate = I - params.gateClosureLeadMs;
    for (const height of [10, 11]) {
      // Each block refunds a whole budget's worth (nothing crosses: pricing walks no step).
      const ctx: BlockContext = { chainId: 'staged', params, height, timestamp: gate, proposer: new Uint8Array(20) };
      const r = executeBlock(await loadAsTheNode(state, [], ctx), [], ctx, { strictAccess: true });
      state.apply(r.changes);
    }
    const left = [...state.iterate(bookPrefix('bid'))].length;
    expect(n - left).toBe(2 * Math.floor(CLEARING_WORK_PER_BLOCK / CLEARING_UNITS.refund));
  });

  describe('a market whose crossing books reach past the slices of their heads', () => {
    // Every bid crosses every ask, so the pricing walk reads each book further than the
    // heads' slices (the budget's units and a block's txs) reach: it reads the market's own
    // slices, from where its walk stands.
    const perSide = CLEARING_WORK_PER_BLOCK + 1 + params.maxBlockTxs + 500;
    const gate = I - params.gateClosureLeadMs;
    const ctx: BlockContext = { chainId: 'staged', params, height: 10, timestamp: gate, proposer: new Uint8Array(20) };
    const crossing: BookOrderSpec[] = [
      ...Array.from({ length: perSide }, () => ({ side: 'bid' as const, price: 200n, volumeWh: 10n })),
      ...Array.from({ length: perSide }, () => ({ side: 'ask' as const, price: 100n, volumeWh: 10n })),
    ];
    const book = (...after: [string, BookOrderSpec[]][]) => stateWith((o) => writeBooks(o, I, [['Z', crossing], ...after]));
    const priced = { status: 'matching', trades: perSide, volumeWh: BigInt(perSide) * 10n, price: 150n };

    it('is priced whole in the block its gate closes in', async () => {
      const state = book();
      const r = executeBlock(await loadAsTheNode(state, [], ctx), [], ctx, { strictAccess: true });
      expect(r.events.find((e) => e.type === 'market-priced')?.attributes).toContainEqual(['trades', String(perSide)]);
      state.apply(r.changes);
      expect(getMarket(state, 'Z', I)).toMatchObject(priced);
    });

    it('is priced with the market after it in the same block', async () => {
      const state = book([
        'Z2',
        [
          { side: 'bid', price: 40n, volumeWh: 7n },
          { side: 'ask', price: 20n, volumeWh: 3n },
        ],
      ]);
      const r = executeBlock(await loadAsTheNode(state, [], ctx), [], ctx, { strictAccess: true });
      expect(r.events.filter((e) => e.type === 'market-priced').map((e) => e.attributes[0])).toEqual([
        ['zone', 'Z'],
        ['zone', 'Z2'],
      ]);
    });

    it('resumes its pricing walk where a block left it, past the heads', async () => {
      const state = book();
      const o = new StateOverlay(state);
      // Units for all but the last 400 or so steps of the walk.
      clearDueMarkets(o, ctx, workBudget(Math.ceil((perSide - 400) / PRICING_STEPS_PER_UNIT)));
      state.apply(o.changes());
      expect(getMarket(state, 'Z', I)).toMatchObject({ status: 'pricing' });
      expect(getMarket(state, 'Z', I)!.trades).toBeGreaterThan(CLEARING_WORK_PER_BLOCK + 1 + params.maxBlockTxs);
      const next = { ...ctx, height: 11 };
      const loaded = await loadAsTheNode(state, [], next);
      const r = executeBlock(loaded, [], next, { strictAccess: true });
      expect(r.events.filter((e) => e.type === 'market-priced')).toHaveLength(1);
      state.apply(r.changes);
      expect(getMarket(state, 'Z', I)).toMatchObject(priced);
    });
  });

  it('more due markets than a block prices: the rest are priced in the next block', async () => {
    const zones = Array.from({ length: 300 }, (_, i) => `Z${String(i).padStart(3, '0')}`);
    const state = stateWith((o) =>
      writeBooks(
        o,
        I,
        zones.map((z) => [
          z,
          [
            { side: 'bid', price: 20n, volumeWh: 5n },
            { side: 'ask', price: 10n, volumeWh: 5n },
          ],
        ]),
      ),
    );
    const gate = I - params.gateClosureLeadMs;
    const counts: number[][] = [];
    for (const height of [10, 11]) {
      const ctx: BlockContext = { chainId: 'staged', params, height, timestamp: gate, proposer: new Uint8Array(20) };
      const r = executeBlock(await loadAsTheNode(state, [], ctx), [], ctx, { strictAccess: true });
      state.apply(r.changes);
      counts.push(['market-priced', 'market-cleared'].map((t) => r.events.filter((e) => e.type === t).length));
    }
    // A block looks through 256 market records: those it prices and clears; the next block the other 44.
    expect(counts).toEqual([
      [256, 256],
      [44, 44],
    ]);
    expect(zones.every((z) => getMarket(state, z, I)!.status === 'cleared')).toBe(true);
  });

  it('a market whose counts are short of its books (never, if place and cancel keep them) waits to be priced first, and the chain goes on', async () => {
    // Z1 is priced at once and its 1,000 trades take two blocks to write (CLEARING_UNITS.trade
    // units each: about 600 a block). Z2's record counts
    // 5 bids and 5 asks of its 20 and 20: the third stage loads 6 entries of each side, and
    // its walk stops there rather than read past them (which would fail every validator's
    // block alike). In the next block Z2 is the first market to price: its slices are whole.
    const pairs = (n: number) =>
      Array.from({ length: 2 * n }, (_, i) => ({ side: i % 2 === 0 ? ('bid' as const) : ('ask' as const), price: i % 2 === 0 ? 50n : 10n, volumeWh: 2n }));
    const state = stateWith((o) => {
      writeBooks(o, I, [
        ['Z1', pairs(1_000)],
        ['Z2', pairs(20)],
      ]);
      putMarket(o, { ...getMarket(o, 'Z2', I)!, bids: 5, asks: 5 });
    });
    const gate = I - params.gateClosureLeadMs;
    const statuses: string[][] = [];
    for (const height of [10, 11, 12]) {
      const ctx: BlockContext = { chainId: 'staged', params, height, timestamp: gate, proposer: new Uint8Array(20) };
      const r = executeBlock(await loadAsTheNode(state, [], ctx), [], ctx, { strictAccess: true });
      state.apply(r.changes);
      statuses.push(['Z1', 'Z2'].map((z) => getMarket(state, z, I)!.status));
    }
    expect(statuses).toEqual([
      ['matching', 'pricing'],
      ['cleared', 'cleared'],
      ['cleared', 'cleared'],
    ]);
    expect(getMarket(state, 'Z2', I)).toMatchObject({ trades: 20, volumeWh: 40n, price: 30n });
  });

  it("a block whose txs cancel more of a book's head than the clearing's slice of it, nothing due", async () => {
    // A market to come, its best bids placed in earlier blocks; this block's order-cancel
    // txs delete them (each cancel deletes its order's book entry, and a block may hold
    // maxBlockTxs of them). The hooks that peek at the book's head (the clearing, and the
    // settlement and agreements through clearedThrough) must not read past what was loaded
    // for them: every validator would fail the block the same way, and the chain would halt.
    const future = I + 10 * params.settlementIntervalMs;
    const n = CLEARING_WORK_PER_BLOCK + 20;
    const ids: Uint8Array[] = [];
    const state = stateWith((o) => {
      for (let i = 0; i < n; i++) {
        const id = orderId({ zone: 'Z', intervalStartMs: future, side: 'bid', price: 100n, height: 1 + (i >> 12), index: i & 4095, deviceId: undefined });
        ids.push(id);
        o.set(bookKey('bid', id), encodeBookOrder({ owner: new Uint8Array(20).fill(1), volumeWh: 10n, deviceId: undefined, locked: 1n }));
      }
      putMarket(o, { ...emptyMarket('Z', future), bids: n, asks: 0 });
    });
    const ctx: BlockContext = { chainId: 'staged', params, height: 10, timestamp: I, proposer: new Uint8Array(20) };
    const loaded = await loadAsTheNode(state, [], ctx);
    const afterTxs = new StateOverlay(loaded);
    for (const id of ids.slice(0, CLEARING_WORK_PER_BLOCK + 10)) afterTxs.delete(bookKey('bid', id));
    expect(() => runEndBlockHooks(afterTxs, ctx, endBlockHooks())).not.toThrow();
  });

  it('more trades due for settlement than a block settles', async () => {
    const n = SETTLEMENT_WORK_PER_BLOCK + 10;
    const state = stateWith((o) => {
      for (let i = 0; i < n; i++) {
        const id = new Uint8Array(32).fill(i & 0xff);
        const trade = { seq: i, bidId: id, askId: id, buyer: id.subarray(0, 20), seller: id.subarray(12), deviceId: `pv-${i}`, volumeWh: 100n };
        o.set(settleItemKey(MarketBucket.settleQueue, I, `pv-${i}`, 'Z', i), encodeTrade(trade));
      }
    });
    await expect(stagedLoads(state, I + params.settlementIntervalMs + params.settlementDelayMs)).resolves.toBeInstanceOf(Array);
  });

  it('more agreement timers due than a block runs (of agreements gone: each is only deleted)', async () => {
    const n = AGREEMENT_WORK_PER_BLOCK + 10;
    const due = I + params.settlementIntervalMs;
    const state = stateWith((o) => {
      for (let i = 0; i < n; i++) {
        const id = new Uint8Array(32);
        new DataView(id.buffer).setUint32(0, i);
        const refs = { buyer: new Uint8Array(20).fill(1), seller: new Uint8Array(20).fill(2), deviceId: `pv-${i}`, zone: 'Z', intervalStartMs: I };
        o.set(timerKey(due, id, i % 2 === 0 ? 'slot' : 'margin', 0), encodeTimerRefs(refs));
      }
    });
    await expect(stagedLoads(state, due)).resolves.toBeInstanceOf(Array);
  });

  it("a block whose txs delete more of the agreements' timer queue head than its slice, nothing due", async () => {
    // Agreements in their cooling-off, each with a start timer to come; this block's
    // agreement-withdraw txs delete the earliest of them (one each).
    const n = AGREEMENT_WORK_PER_BLOCK + 20;
    const start = I + 10 * params.settlementIntervalMs;
    const keys: Uint8Array[] = [];
    const state = stateWith((o) => {
      for (let i = 0; i < n; i++) {
        const id = new Uint8Array(32);
        new DataView(id.buffer).setUint32(0, i);
        const refs = { buyer: new Uint8Array(20).fill(1), seller: new Uint8Array(20).fill(2), deviceId: `pv-${i}`, zone: 'Z', intervalStartMs: start };
        const k = timerKey(start, id, 'start', 0);
        keys.push(k);
        o.set(k, encodeTimerRefs(refs));
      }
    });
    const ctx: BlockContext = { chainId: 'staged', params, height: 10, timestamp: I, proposer: new Uint8Array(20) };
    const loaded = await loadAsTheNode(state, [], ctx);
    const afterTxs = new StateOverlay(loaded);
    for (const k of keys.slice(0, AGREEMENT_WORK_PER_BLOCK + 10)) afterTxs.delete(k);
    expect(() => runEndBlockHooks(afterTxs, ctx, endBlockHooks())).not.toThrow();
  });

  const deviceIdOf = (i: number) => `pv-${String(i).padStart(5, '0')}`;
  /**
   * `n` devices, each with a watch for interval I: none reported it, so each close of an
   * active one is a missed interval. With `suspendEvery`, every such device is suspended: its
   * watch is dropped, at a unit, and the block reaches further into the queue. The first
   * `reported` devices reported I instead (10 Wh exported, its totals and no watch).
   */
  const watchedFleet = (n: number, { suspendEvery = 0, reported = 0 } = {}) =>
    stateWith((o) => {
      for (let i = 0; i < n; i++) {
        const id = deviceIdOf(i);
        const key = new Uint8Array(48).fill(1);
        const owner = new Uint8Array(20).fill(2);
        putDevice(o, {
          id,
          publicKey: key,
          owner,
          operator: owner,
          kind: 'solar',
          zone: 'Z',
          maxImportW: 1000,
          maxExportW: 1000,
          carbonIntensity: 30,
          checkMeter: undefined,
          status: suspendEvery > 0 && i % suspendEvery === 0 ? 'suspended' : 'active',
          keyHistory: [{ key, fromHeight: 1 }],
        });
        if (i >= reported) putCloseItem(o, I, id, { checkMeter: undefined, reported: false });
        else {
          putCloseItem(o, I, id, { checkMeter: undefined, reported: true, kind: 'solar', zone: 'Z' });
          putIntervalTotals(o, {
            deviceId: id,
            intervalStartMs: I,
            readings: 1,
            importWh: 0n,
            exportWh: 10n,
            status: 'open',
            mintedWh: undefined,
            utxoId: undefined,
            check: undefined,
          });
        }
      }
    });
  const missedIn = (state: MemoryState, n: number) =>
    Array.from({ length: n }, (_, i) => getDeviceHealth(state, deviceIdOf(i)).missed).filter((m) => m > 0).length;

  describe('more devices due for their interval close than a block closes', () => {
    const n = CLOSE_CATCH_UP_WORK_PER_BLOCK + 10;

    it('keeping up: the block closes its steady allowance, within what it loaded', async () => {
      const state = watchedFleet(n);
      state.apply(await stagedLoads(state, settlesAt(I, params)));
      expect(missedIn(state, n)).toBe(CLOSE_WORK_PER_BLOCK / CLOSE_UNITS.missed);
    });

    it('behind (the next interval is due too): the block closes the catch-up allowance, within what it loaded', async () => {
      const state = watchedFleet(n);
      state.apply(await stagedLoads(state, settlesAt(I + params.settlementIntervalMs, params)));
      expect(missedIn(state, n)).toBe(CLOSE_CATCH_UP_WORK_PER_BLOCK / CLOSE_UNITS.missed);
    });

    it('watches of suspended devices draw a unit each: the block reaches further, within what it loaded', async () => {
      const state = watchedFleet(n, { suspendEvery: 2 });
      state.apply(await stagedLoads(state, settlesAt(I, params)));
      // Pairs of a suspended device (a unit) and an active one (a missed interval).
      const pairs = Math.floor(CLOSE_WORK_PER_BLOCK / (CLOSE_UNITS.dropped + CLOSE_UNITS.missed));
      expect(missedIn(state, n)).toBe(pairs);
      expect(hasCloseItem(state, I, deviceIdOf(2 * pairs - 1), true)).toBe(false);
      expect(hasCloseItem(state, I, deviceIdOf(2 * pairs + 1), true)).toBe(true);
    });

    it('reported intervals that draw the whole allowance: the watch after them is not read', async () => {
      const reported = CLOSE_WORK_PER_BLOCK / CLOSE_UNITS.reported;
      const state = watchedFleet(n, { reported });
      state.apply(await stagedLoads(state, settlesAt(I, params)));
      expect(intervalTotalsOf(state, deviceIdOf(reported - 1), I)).toMatchObject({ status: 'closed', mintedWh: 10n });
      expect(hasCloseItem(state, I, deviceIdOf(reported), true)).toBe(true);
      expect(missedIn(state, n)).toBe(0);
    });
  });
});
