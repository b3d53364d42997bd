import { describe, expect, it } from 'vitest';
import { equalBytes } from '../../core/bytes.ts';
import { commandHash } from '../../core/command.ts';
import { ErrorCode } from '../../core/errors.ts';
import { errorOf } from '../../core/testing/errors.ts';
import { buildCommandAnchor } from '../../core/tx/command-anchor.ts';
import { buildFlexWithdraw } from '../../core/tx/flex-withdraw.ts';
import { getAccount } from '../../state/accounts.ts';
import { getAnchoredCommand } from '../../state/commands.ts';
import { FLEX_QUEUE_PREFIX, getCommandPayment, getFlexActivation, getFlexBid, getFlexIntervalResult } from '../../state/flex.ts';
import { ENERGY_CHAIN_ID } from '../testing/energy-chain.ts';
import { testFleet, type TestFleet } from '../testing/flex.ts';
import { activationCommand, fleetCommand } from './command.ts';

/**
 * The bid: bat-0 and bat-1 (1 MW each), 1,000 kW at 100,000,000 micro-units per MWh (100 per
 * MWh), available from A - iv for 10 intervals. The baseline: in each of the 4 intervals
 * before A, bat-0 imports 300 Wh and bat-1 exports 100 Wh: the fleet's net export is -200 Wh.
 * An activation of 240 kW for a 30 s interval targets 240 x 30,000 / 3600 = 2,000 Wh once
 * the fleet is at full power; it ramps up at the bid's 500 kW/min, so reaches 240 kW after
 * 28.8 s, and the first interval targets floor(240 x 30 s - 240 x 28.8 s / 2) = 1,040 Wh.
 */
function activated(opts: { intervals?: number } = {}) {
  const f = testFleet();
  const { c, A, iv } = f;
  for (let k = 4; k >= 2; k--)
    f.meter(A - k * iv, [
      ['bat-0', 300n],
      ['bat-1', -100n],
    ]);
  const bid = f.bid();
  c.block(bid);
  f.meter(A - iv, [
    ['bat-0', 300n],
    ['bat-1', -100n],
  ]);
  const act = f.activate(bid.hash, 240, A, A + (opts.intervals ?? 2) * iv);
  const before = { money: f.money(), dso: getAccount(c.state, f.dso.address), agg: getAccount(c.state, f.agg.address) };
  const r = c.block(act);
  expect(r.receipts[0]!.success).toBe(true);
  return { f, c, A, iv, bid, act, before, activatedAt: c.now() - c.ctx().params.blockPeriodMs };
}

/** Moves to the interval's settlement, and one block more: an entry the hook queues in a block (the next interval, due already) waits for the next. */
function settleThrough(f: TestFleet, intervalStartMs: number): void {
  const { c } = f;
  const p = c.ctx().params;
  f.to(intervalStartMs + p.settlementIntervalMs + p.settlementDelayMs);
  c.block();
  c.block();
}

describe('flexibility: bid, activation, confirmation, settlement', () => {
  it('a bid is recorded under its tx hash; its fleet must be the sender’s devices, within their power', () => {
    const f = testFleet();
    const bid = f.bid();
    f.c.block(bid);
    expect(getFlexBid(f.c.state, bid.hash)).toMatchObject({ capacityKw: 1000, deviceIds: ['bat-0', 'bat-1'], pricePerMwh: 100_000_000n, reservedUntilMs: 0 });
    expect(errorOf(() => f.c.check(f.bid({ capacityKw: 4001 })))).toMatchObject({ code: ErrorCode.FLEX_CAPACITY, field: 'tx.body.capacityKw' });
    expect(errorOf(() => f.c.check(f.bid({ deviceIds: ['bat-0', 'dso-0'] })))).toMatchObject({
      code: ErrorCode.TX_UNAUTHORIZED,
      field: 'tx.body.deviceIds[1]',
    });
    expect(errorOf(() => f.c.check(f.bid({ pricePerMwh: 4_000_000_001n })))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.pricePerMwh' });
  });

  it('activation: escrows ceil((1,040 + 2,000) Wh x price / 10^6) = 304,000 and anchors the fleet’s discharge command; its rules name their fields', () => {
    const { f, c, A, iv, bid, act, before } = activated();
    const a = getFlexActivation(c.state, act.hash)!;
    expect(a).toMatchObject({ status: 'pending', escrow: 304_000n, powerKw: 240, rampUpKwPerMin: 500, startMs: A, endMs: A + 2 * iv });
    expect(getAccount(c.state, f.dso.address)).toMatchObject({ locked: before.dso.locked + 304_000n });
    const cmd = fleetCommand(f.dso.address, getFlexBid(c.state, bid.hash)!, { powerKw: 240, startMs: A, endMs: A + 2 * iv });
    expect(cmd).toMatchObject({ type: 1, powerLimitW: 120_000, priceMicroPerKwh: 100_000n, deviceIds: ['bat-0', 'bat-1'] });
    expect(equalBytes(a.commandHash, commandHash(ENERGY_CHAIN_ID, cmd))).toBe(true);
    // What the node announces when it admits the activation: the same command, from the bid in state.
    expect(activationCommand(c.state, act)).toEqual(cmd);
    expect(activationCommand(c.state, bid)).toBeUndefined();
    expect(getAnchoredCommand(c.state, a.commandHash)).toMatchObject({ validFromUs: BigInt(A) * 1000n, powerLimitW: 120_000 });
    const check = (t: ReturnType<TestFleet['activate']>) => errorOf(() => c.check(t));
    expect(check(f.activate(bid.hash, 240, A + iv, A + 3 * iv))).toMatchObject({ code: ErrorCode.FLEX_WINDOW, field: 'tx.body.startMs' });
    expect(check(f.activate(bid.hash, 1001, A + 2 * iv, A + 3 * iv))).toMatchObject({ code: ErrorCode.FLEX_CAPACITY, field: 'tx.body.powerKw' });
    expect(check(f.activate(bid.hash, 240, A + 2 * iv, A + 12 * iv))).toMatchObject({ code: ErrorCode.FLEX_WINDOW, field: 'tx.body.endMs' });
    expect(check(f.activate(bid.hash, 240, A + 2 * iv + 1, A + 3 * iv))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.startMs' });
    expect(check(f.activate(bid.hash, 240, A + 2 * iv, A + 3 * iv, f.agg))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
    expect(check(f.activate(act.hash, 240, A + 2 * iv, A + 3 * iv))).toMatchObject({ code: ErrorCode.FLEX_BID_UNKNOWN, field: 'tx.body.bidId' });
  });

  it('confirmed in time and delivered in full: the ramping interval pays floor(1,040 x 10^8 / 10^6) = 104,000, the next 200,000; the escrow is used up', () => {
    const { f, c, A, iv, act, before } = activated();
    c.advance(10_000);
    expect(c.block(f.confirm(act.hash)).receipts[0]!.success).toBe(true);
    expect(getFlexActivation(c.state, act.hash)!.status).toBe('confirmed');
    // Net export 2,000 and 2,200 above a baseline of -200: at least the target both times.
    f.meter(A, [
      ['bat-0', -1000n],
      ['bat-1', -800n],
    ]);
    f.meter(A + iv, [
      ['bat-0', -1500n],
      ['bat-1', -500n],
    ]);
    settleThrough(f, A + iv);
    expect(getFlexIntervalResult(c.state, act.hash, A)).toMatchObject({
      meteredWh: 1800n,
      baselineWh: -200n,
      targetWh: 1040n,
      deliveredWh: 1040n,
      payment: 104_000n,
      penalty: 0n,
    });
    expect(getFlexIntervalResult(c.state, act.hash, A + iv)).toMatchObject({ meteredWh: 2000n, targetWh: 2000n, deliveredWh: 2000n, payment: 200_000n });
    expect(getFlexActivation(c.state, act.hash)).toMatchObject({ status: 'settled', baselineIntervals: 4, deliveredWh: 3040n, paid: 304_000n, escrow: 0n });
    expect(getAccount(c.state, f.agg.address).balance - before.agg.balance).toBe(304_000n - 3n * 25n); // less the fees of the confirmation and two telemetry batches
    expect(getAccount(c.state, f.dso.address).locked).toBe(before.dso.locked);
    expect(f.money()).toBe(before.money);
    expect([...c.state.iterate(FLEX_QUEUE_PREFIX)]).toHaveLength(0);
  });

  it("under-delivered: 1,000 of the ramping interval's 1,040 Wh paid 100,000; the 40 Wh shortfall costs floor(40 x 10^8 x 5 % / 10^6) = 200; the unused escrow goes back", () => {
    const { f, c, A, iv, act, before } = activated({ intervals: 1 });
    c.block(f.confirm(act.hash));
    f.meter(A, [
      ['bat-0', -500n],
      ['bat-1', -300n],
    ]);
    const dsoBefore = getAccount(c.state, f.dso.address);
    settleThrough(f, A);
    expect(getFlexIntervalResult(c.state, act.hash, A)).toMatchObject({
      meteredWh: 800n,
      baselineWh: -200n,
      targetWh: 1040n,
      deliveredWh: 1000n,
      payment: 100_000n,
      penaltyDue: 200n,
      penalty: 200n,
    });
    expect(getFlexActivation(c.state, act.hash)).toMatchObject({ status: 'settled', deliveredWh: 1000n, paid: 100_000n, penalty: 200n, escrow: 0n });
    // The escrow was 104,000: 100,000 paid, 4,000 back; and the penalty of 200 on top.
    expect(getAccount(c.state, f.dso.address)).toMatchObject({ locked: dsoBefore.locked - 104_000n, balance: dsoBefore.balance + 4000n + 200n });
    expect(f.money()).toBe(before.money);
    expect(iv).toBeGreaterThan(0);
  });

  it('no meter data before the window: the baseline is 0 (no interval to average), so all the fleet exports counts', () => {
    const f = testFleet();
    const { c, A, iv } = f;
    const bid = f.bid({ availableFromMs: A - 2 * iv });
    c.block(bid);
    const act = f.activate(bid.hash, 240, A, A + iv);
    c.block(act);
    c.block(f.confirm(act.hash));
    f.meter(A, [['bat-0', -500n]]);
    settleThrough(f, A);
    expect(getFlexActivation(c.state, act.hash)).toMatchObject({ baselineWh: 0n, baselineIntervals: 0, deliveredWh: 500n });
  });

  it('confirmed late: refused with FLEX_CONFIRM_LATE; the activation lapses at its deadline and the escrow goes back; nothing settles', () => {
    const { f, c, A, act, before, activatedAt } = activated();
    f.to(activatedAt + 30_001);
    expect(errorOf(() => c.check(f.confirm(act.hash)))).toMatchObject({ code: ErrorCode.FLEX_CONFIRM_LATE, field: 'tx.body.activationId' });
    const r = c.block();
    expect(r.events.map((e) => e.type)).toContain('flex-lapsed');
    expect(getFlexActivation(c.state, act.hash)).toMatchObject({ status: 'lapsed', escrow: 0n });
    expect(getAccount(c.state, f.dso.address).locked).toBe(before.dso.locked);
    expect(errorOf(() => c.check(f.confirm(act.hash)))).toMatchObject({ code: ErrorCode.FLEX_CONFIRM_LATE });
    settleThrough(f, A);
    expect(getFlexIntervalResult(c.state, act.hash, A)).toBeUndefined();
    expect(f.money()).toBe(before.money);
  });

  it('withdrawn by its aggregator: no new activation fits, the confirmed one still settles; only the aggregator withdraws, once', () => {
    const { f, c, A, iv, bid, act } = activated({ intervals: 1 });
    c.block(f.confirm(act.hash));
    const withdraw = (who = f.agg) => buildFlexWithdraw({ ...c.sender(who), bidId: bid.hash });
    expect(errorOf(() => c.check(withdraw(f.dso)))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
    const r = c.block(withdraw());
    expect(r.receipts[0]!.success).toBe(true);
    // Its availability now ends where the activation's window does (later than the block's time).
    expect(getFlexBid(c.state, bid.hash)).toMatchObject({ availableUntilMs: A + iv, reservedUntilMs: A + iv });
    expect(errorOf(() => c.check(f.activate(bid.hash, 240, A + iv, A + 2 * iv)))).toMatchObject({ code: ErrorCode.FLEX_WINDOW, field: 'tx.body.endMs' });
    expect(errorOf(() => c.check(withdraw()))).toMatchObject({ code: ErrorCode.FLEX_WINDOW, field: 'tx.body.bidId' });
    expect(errorOf(() => c.check(buildFlexWithdraw({ ...c.sender(f.agg), bidId: act.hash })))).toMatchObject({ code: ErrorCode.FLEX_BID_UNKNOWN });
    f.meter(A, [['bat-0', -2000n]]);
    settleThrough(f, A);
    expect(getFlexActivation(c.state, act.hash)).toMatchObject({ status: 'settled', deliveredWh: 1040n });
  });

  it('a confirmation at the very end of the 30 s counts; a second one is FLEX_NOT_PENDING; only the aggregator confirms', () => {
    const { f, c, act, activatedAt } = activated();
    expect(errorOf(() => c.check(f.confirm(act.hash, f.dso)))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
    f.to(activatedAt + 30_000);
    expect(c.block(f.confirm(act.hash)).receipts[0]!.success).toBe(true);
    c.block();
    expect(getFlexActivation(c.state, act.hash)!.status).toBe('confirmed');
    expect(errorOf(() => c.check(f.confirm(act.hash)))).toMatchObject({ code: ErrorCode.FLEX_NOT_PENDING });
  });
});

describe('a plain anchored command with a price', () => {
  it('pays each device’s metered export in its window up to the commanded limit, from the dso to the owner', () => {
    const f = testFleet();
    const { c, A, iv } = f;
    const before = { money: f.money(), owner: getAccount(c.state, f.owner.address).balance };
    // 60 kW for one 30 s interval: 500 Wh per device at most, at 150,000 micro-units per kWh.
    const body = {
      type: 1 as const,
      deviceIds: ['dso-0', 'dso-1'],
      zone: undefined,
      powerLimitW: 60_000,
      priceMicroPerKwh: 150_000n,
      validFromUs: BigInt(A) * 1000n,
      validUntilUs: BigInt(A + iv) * 1000n,
    };
    const anchor = buildCommandAnchor({ ...c.sender(f.dso), ...body });
    expect(c.block(anchor).receipts[0]!.success).toBe(true);
    f.meter(A, [
      ['dso-0', -800n],
      ['dso-1', -200n],
    ]);
    settleThrough(f, A);
    const hash = commandHash(ENERGY_CHAIN_ID, { ...body, issuer: f.dso.address });
    expect(getCommandPayment(c.state, hash, A, 'dso-0')).toMatchObject({ exportWh: 800n, limitWh: 500n, due: 75_000n, paid: 75_000n });
    expect(getCommandPayment(c.state, hash, A, 'dso-1')).toMatchObject({ exportWh: 200n, limitWh: 500n, due: 30_000n, paid: 30_000n });
    expect(getAccount(c.state, f.owner.address).balance).toBe(before.owner + 105_000n);
    expect(f.money()).toBe(before.money);
    expect([...c.state.iterate(FLEX_QUEUE_PREFIX)]).toHaveLength(0);
  });

  it('a command without a price queues nothing', () => {
    const f = testFleet();
    const { c, A, iv } = f;
    const anchor = buildCommandAnchor({
      ...c.sender(f.dso),
      type: 1,
      deviceIds: ['dso-0'],
      zone: undefined,
      powerLimitW: 60_000,
      priceMicroPerKwh: 0n,
      validFromUs: BigInt(A) * 1000n,
      validUntilUs: BigInt(A + iv) * 1000n,
    });
    c.block(anchor);
    expect([...c.state.iterate(FLEX_QUEUE_PREFIX)]).toHaveLength(0);
  });
});
