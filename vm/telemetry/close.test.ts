import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { mintedUtxoId } from '../../core/energy.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { BlsKeyPair } from '../../core/keys.ts';
import { INTERVAL_TOTALS_KEPT, intervalOf, settlesAt } from '../../core/meter.ts';
import type { Reading } from '../../core/telemetry.ts';
import { buildCheckMeterResolution, type CheckMeterResolutionBody } from '../../core/tx/check-meter-resolution.ts';
import { buildDeviceRegister, type DeviceRegisterBody } from '../../core/tx/device-register.ts';
import { getDevice } from '../../state/devices.ts';
import { getUtxo } from '../../state/energy.ts';
import { getDeviceHealth, getIntervalTotals, hasCloseItem, intervalTotalsOf } from '../../state/telemetry.ts';
import { executeBlock } from '../executor.ts';
import { energyChain, registerBody, testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { batchTx, reading } from '../testing/telemetry.ts';
import { CLOSE_UNITS, intervalCloseHook } from './close.ts';

function rejection(f: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('was not rejected');
}

/** 1 MW devices: 100 Wh fits in under a second of an interval. */
const BIG = { maxExportW: 1_000_000, maxImportW: 1_000_000 };

function setup(devices: readonly [string, Partial<DeviceRegisterBody>][]) {
  const c = energyChain({ accounts: { agg: ['aggregator'], dso: ['dso'], owner: [] } });
  const { agg, dso, owner } = c.accounts as Record<string, TestKey>;
  const keys = new Map<string, BlsKeyPair>();
  const txs = devices.map(([id, more], i) => {
    keys.set(id, testDeviceKey(i + 1));
    return buildDeviceRegister({ ...c.sender(agg!, i), device: registerBody(id, keys.get(id)!, owner!.address, { ...BIG, ...more }) });
  });
  c.block(...txs);
  const p = c.ctx().params;
  const send = (readings: Reading[], offset = 0) => batchTx(c, agg!, readings, (id) => keys.get(id)!, { offset });
  /** Moves to the first block at or after the settlement of the interval holding `t`. */
  const toSettlement = (t: number) => {
    const due = settlesAt(intervalOf(BigInt(t) * 1000n, p.settlementIntervalMs), p);
    if (c.now() < due) c.advance(due - c.now());
  };
  /** The first ms of the next interval after the one holding the next block's time, plus `ms`. */
  const toNextInterval = (ms = 100) => c.advance(intervalOf(BigInt(c.now()) * 1000n, p.settlementIntervalMs) + p.settlementIntervalMs + ms - c.now());
  return { c, agg: agg!, dso: dso!, owner: owner!, p, send, toSettlement, toNextInterval };
}

describe('interval close', () => {
  it('mints net export at the first block at or after the interval end plus the settlement delay, not before', () => {
    const { c, owner, p, send, toSettlement, toNextInterval } = setup([['pv', {}]]);
    toNextInterval(1000);
    const t = c.now();
    const I = intervalOf(BigInt(t) * 1000n, p.settlementIntervalMs);
    c.block(send([reading('pv', t - 500, -70), reading('pv', t, 20), reading('pv', t + 400, -40)]));
    const due = settlesAt(I, p);
    c.advance(due - 1 - c.now());
    c.block();
    expect(intervalTotalsOf(c.state, 'pv', I)!.status).toBe('open');
    expect(getUtxo(c.state, mintedUtxoId('pv', I))).toBeUndefined();
    toSettlement(t);
    const r = c.block();
    expect(r.events.find((e) => e.type === 'interval-closed')!.attributes).toContainEqual(['mintedWh', '90']);
    const u = getUtxo(c.state, mintedUtxoId('pv', I))!;
    expect(u).toMatchObject({ wh: 90n, frozen: false, height: c.height - 1 });
    expect(u.owner).toEqual(owner.address);
    expect(u.provenance).toMatchObject({ deviceId: 'pv', intervalStartMs: I, intervalEndMs: I + p.settlementIntervalMs });
    expect(getIntervalTotals(c.state, 'pv', I)).toMatchObject({ status: 'closed', importWh: 20n, exportWh: 110n, mintedWh: 90n, utxoId: u.id });
    expect(hasCloseItem(c.state, I, 'pv')).toBe(false);
  });

  it('freezes an interval whose check meter disagrees by more than 2 %, never mints the check meter, and a dso resolves it', () => {
    const { c, agg, dso, p, send, toSettlement, toNextInterval } = setup([
      ['cm', { kind: 'meter' }],
      ['pv', { checkMeter: 'cm' }],
      ['cm-ok', { kind: 'meter' }],
      ['pv-ok', { checkMeter: 'cm-ok' }],
    ]);
    void agg;
    toNextInterval();
    const t = c.now();
    const I = intervalOf(BigInt(t) * 1000n, p.settlementIntervalMs);
    c.block(send([reading('pv', t, -100), reading('cm', t, -110), reading('pv-ok', t, -100), reading('cm-ok', t, -101)]));
    toSettlement(t);
    const r = c.block();
    expect(r.events.filter((e) => e.type === 'interval-frozen').map((e) => e.attributes[0])).toEqual([['device', 'pv']]);
    expect(getUtxo(c.state, mintedUtxoId('pv', I))).toMatchObject({ wh: 100n, frozen: true });
    expect(getUtxo(c.state, mintedUtxoId('pv-ok', I))).toMatchObject({ wh: 100n, frozen: false });
    expect(getUtxo(c.state, mintedUtxoId('cm', I))).toBeUndefined();
    expect(getUtxo(c.state, mintedUtxoId('cm-ok', I))).toBeUndefined();
    expect(getIntervalTotals(c.state, 'pv', I)).toMatchObject({ status: 'frozen', check: { deviceId: 'cm', readings: 1, exportWh: 110n } });
    expect(getIntervalTotals(c.state, 'cm', I)).toMatchObject({ status: 'closed', mintedWh: undefined });

    const resolve = (who: TestKey, b: Omit<CheckMeterResolutionBody, 'deviceId' | 'intervalStartMs'>, id = 'pv', start = I) =>
      buildCheckMeterResolution({ ...c.sender(who), deviceId: id, intervalStartMs: start, ...b });
    expect(rejection(() => c.check(resolve(agg, { resolution: 'device' })))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
    expect(rejection(() => c.check(resolve(dso, { resolution: 'value', valueWh: 111n })))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.valueWh',
    });
    expect(rejection(() => c.check(resolve(dso, { resolution: 'device' }, 'pv-ok')))).toMatchObject({
      code: ErrorCode.INTERVAL_NOT_FROZEN,
      field: 'tx.body.intervalStartMs',
    });
    expect(rejection(() => c.check(resolve(dso, { resolution: 'device' }, 'pv', I + p.settlementIntervalMs)))).toMatchObject({
      code: ErrorCode.INTERVAL_NOT_FROZEN,
    });
    const done = c.block(resolve(dso, { resolution: 'value', valueWh: 105n }));
    expect(done.receipts[0]).toMatchObject({ success: true });
    expect(getUtxo(c.state, mintedUtxoId('pv', I))).toMatchObject({ wh: 105n, frozen: false });
    expect(getIntervalTotals(c.state, 'pv', I)).toMatchObject({ status: 'resolved', mintedWh: 105n });
    expect(rejection(() => c.check(resolve(dso, { resolution: 'check-meter' })))).toMatchObject({ code: ErrorCode.INTERVAL_NOT_FROZEN });
  });

  it('missing data: estimated de-rated after 2 silent intervals (never minted), flagged and out of dispatch after 4', () => {
    const { c, p, send, toNextInterval } = setup([['pv', {}]]);
    toNextInterval();
    const t = c.now();
    const I = intervalOf(BigInt(t) * 1000n, p.settlementIntervalMs);
    c.block(send([reading('pv', t, -200), reading('pv', t + 600, 50)]));
    const silentCloses: number[] = [];
    for (let k = 0; k <= 5; k++) {
      c.advance(settlesAt(I + k * p.settlementIntervalMs, p) - c.now());
      c.block();
      silentCloses.push(getDeviceHealth(c.state, 'pv').missed);
    }
    // Closes of I (the reported one), then I+1.. I+4 (silent); after the flag nothing is watched.
    expect(silentCloses).toEqual([0, 1, 2, 3, 4, 4]);
    expect(getDevice(c.state, 'pv')!.status).toBe('flagged-for-inspection');
    const h = getDeviceHealth(c.state, 'pv');
    expect(h).toMatchObject({
      lastReportedMs: I,
      lastVerified: { intervalStartMs: I, importWh: 0n, exportWh: 150n },
      flaggedAtMs: I + 4 * p.settlementIntervalMs,
      estimate: undefined,
    });
    expect(hasCloseItem(c.state, I + 5 * p.settlementIntervalMs, 'pv', true)).toBe(false);
    expect(hasCloseItem(c.state, I + 4 * p.settlementIntervalMs, 'pv', true)).toBe(false);
    // Nothing but the measured interval was minted.
    for (let k = 1; k <= 5; k++) expect(getUtxo(c.state, mintedUtxoId('pv', I + k * p.settlementIntervalMs))).toBeUndefined();
  });

  it('a device silent for one interval and back in the next: the missed one is counted, the next one minted', () => {
    const { c, p, send, toNextInterval } = setup([['pv', {}]]);
    toNextInterval();
    const I = intervalOf(BigInt(c.now()) * 1000n, p.settlementIntervalMs);
    const J = I + 2 * p.settlementIntervalMs;
    c.block(send([reading('pv', c.now(), -10)]));
    // The close of I queues a watch for I + 1; the device reports again only in I + 2, before that watch is closed.
    c.advance(settlesAt(I, p) - c.now());
    c.block();
    c.advance(J + 100 - c.now());
    c.block(send([reading('pv', c.now(), -30)]));
    expect(settlesAt(I + p.settlementIntervalMs, p)).toBeGreaterThan(c.now() - 1000);
    c.advance(settlesAt(J, p) - c.now());
    c.block();
    expect(getUtxo(c.state, mintedUtxoId('pv', J))).toMatchObject({ wh: 30n });
    expect(getDeviceHealth(c.state, 'pv')).toMatchObject({ missed: 0, lastReportedMs: J });
  });

  it('the estimate after 2 missed intervals is the last verified interval de-rated by derateBps', () => {
    const { c, p, send, toNextInterval } = setup([['pv', {}]]);
    toNextInterval();
    const t = c.now();
    const I = intervalOf(BigInt(t) * 1000n, p.settlementIntervalMs);
    c.block(send([reading('pv', t, -1000)]));
    for (let k = 0; k <= 2; k++) {
      c.advance(settlesAt(I + k * p.settlementIntervalMs, p) - c.now());
      c.block();
    }
    expect(getDeviceHealth(c.state, 'pv')).toMatchObject({
      missed: 2,
      estimate: { intervalStartMs: I + 2 * p.settlementIntervalMs, importWh: 0n, exportWh: 900n },
    });
    expect(getDevice(c.state, 'pv')!.status).toBe('active');
  });

  it('spreads a backlog over blocks within its work budget, in ascending (interval, device id) order', () => {
    const ids = ['d-6', 'd-0', 'd-5', 'd-1', 'd-4', 'd-2', 'd-3'];
    const { c, p, send, toSettlement, toNextInterval } = setup(ids.map((id) => [id, {}]));
    toNextInterval();
    const t = c.now();
    const I = intervalOf(BigInt(t) * 1000n, p.settlementIntervalMs);
    c.block(send(ids.map((id) => reading(id, t, -10))));
    toSettlement(t);
    // Room for three reported intervals a block, and not for a fourth.
    const hooks = [{ ...intervalCloseHook, workPerBlock: 4 * CLOSE_UNITS.reported - 1 }];
    const closedIn: string[][] = [];
    for (let b = 0; b < 4; b++) {
      const r = executeBlock(c.state, [], c.ctx(), { endBlockHooks: hooks });
      c.state.apply(r.changes);
      c.height++;
      closedIn.push([...ids].sort().filter((id) => intervalTotalsOf(c.state, id, I)!.status === 'closed' && !closedIn.flat().includes(id)));
    }
    expect(closedIn).toEqual([['d-0', 'd-1', 'd-2'], ['d-3', 'd-4', 'd-5'], ['d-6'], []]);
  });

  it('a device that reported is not counted missing when the budget ends between its reported entry and its watch', () => {
    const { c, p, send, toNextInterval } = setup([['pv', {}]]);
    toNextInterval();
    const I = intervalOf(BigInt(c.now()) * 1000n, p.settlementIntervalMs);
    const J = I + p.settlementIntervalMs;
    c.block(send([reading('pv', c.now(), -10)]));
    // The close of I queues a watch for J; the device reports J as well: two entries for (J, pv).
    c.advance(settlesAt(I, p) - c.now());
    c.block();
    c.advance(J + 100 - c.now());
    c.block(send([reading('pv', c.now(), -30)]));
    expect(hasCloseItem(c.state, J, 'pv', true)).toBe(true);
    // Room for one reported entry a block: it closes in one block, the watch is reached in the next.
    c.advance(settlesAt(J, p) - c.now());
    const hooks = [{ ...intervalCloseHook, workPerBlock: CLOSE_UNITS.reported }];
    for (let b = 0; b < 2; b++) {
      const r = executeBlock(c.state, [], c.ctx(), { endBlockHooks: hooks });
      c.state.apply(r.changes);
      c.height++;
    }
    expect(hasCloseItem(c.state, J, 'pv', true)).toBe(false);
    expect(getUtxo(c.state, mintedUtxoId('pv', J))).toMatchObject({ wh: 30n });
    expect(getDeviceHealth(c.state, 'pv')).toMatchObject({ missed: 0, lastReportedMs: J });
  });

  it('deletes only records that are there (a blind delete changes no root, yet costs its path at commit)', () => {
    const { c, send, toSettlement, toNextInterval } = setup([['pv', {}]]);
    toNextInterval();
    const t = c.now();
    c.block(send([reading('pv', t, -10)]));
    toSettlement(t);
    const r = executeBlock(c.state, [], c.ctx(), { endBlockHooks: [intervalCloseHook] });
    expect(r.events.some((e) => e.type === 'interval-closed')).toBe(true);
    const deleted = r.changes.filter((ch) => ch.value === undefined);
    expect(deleted.length).toBeGreaterThan(0);
    for (const ch of deleted) expect(c.state.get(ch.key), toHex(ch.key)).toBeDefined();
  });

  it(`keeps each device's last ${INTERVAL_TOTALS_KEPT} intervals`, () => {
    const { c, p, send, toNextInterval } = setup([['pv', {}]]);
    toNextInterval();
    const first = intervalOf(BigInt(c.now()) * 1000n, p.settlementIntervalMs);
    for (let k = 0; k <= INTERVAL_TOTALS_KEPT; k++) {
      c.block(send([reading('pv', c.now(), -1)]));
      toNextInterval(p.settlementDelayMs);
    }
    c.block();
    expect(getIntervalTotals(c.state, 'pv', first)).toBeUndefined();
    expect(getIntervalTotals(c.state, 'pv', first + p.settlementIntervalMs)).toMatchObject({ status: 'closed' });
  });
});
