import { bls12_381 } from '@noble/curves/bls12-381.js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { blsAggregateSignatures, type BlsKeyPair } from '../../core/keys.ts';
import { intervalOf } from '../../core/meter.ts';
import { readingSigningBytes, skippedDevices, type Reading } from '../../core/telemetry.ts';
import { buildDeviceRekey } from '../../core/tx/device-rekey.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildDeviceStatus } from '../../core/tx/device-status.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import { getDevice } from '../../state/devices.ts';
import { getMeterCursor, hasCloseItem, intervalTotalsOf } from '../../state/telemetry.ts';
import { executeBlock } from '../executor.ts';
import { executeAsTheNode } from '../testing/staged-load.ts';
import { checkTx } from '../validity.ts';
import { devicePop, energyChain, ENERGY_CHAIN_ID, registerBody, testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { batchTx, reading } from '../testing/telemetry.ts';

function rejection(f: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('was not rejected');
}

/** A chain with pv-1 and pv-2 (solar: 10 kW export, 5 kW import) operated by agg, and pv-x by other. */
function setup() {
  const c = energyChain({ accounts: { agg: ['aggregator'], other: ['aggregator'], nobody: [], owner: [] } });
  const { agg, other, nobody, owner } = c.accounts as Record<string, TestKey>;
  const keys = new Map<string, BlsKeyPair>([
    ['pv-1', testDeviceKey(1)],
    ['pv-2', testDeviceKey(2)],
    ['pv-x', testDeviceKey(3)],
  ]);
  c.block(
    buildDeviceRegister({ ...c.sender(agg!), device: registerBody('pv-1', keys.get('pv-1')!, owner!.address) }),
    buildDeviceRegister({ ...c.sender(agg!, 1), device: registerBody('pv-2', keys.get('pv-2')!, owner!.address) }),
    buildDeviceRegister({ ...c.sender(other!), device: registerBody('pv-x', keys.get('pv-x')!, owner!.address) }),
  );
  const keyOf = (id: string) => keys.get(id)!;
  const batch = (readings: Reading[], opts: Parameters<typeof batchTx>[4] = {}, who: TestKey = agg!) => batchTx(c, who, readings, keyOf, opts);
  return { c, agg: agg!, other: other!, nobody: nobody!, keys, keyOf, batch };
}

describe('telemetry-batch: a valid batch', () => {
  it('counts readings into (device, interval) totals, moves each device cursor, queues the interval close', () => {
    const { c, batch } = setup();
    const t = c.now();
    const r = c.block(batch([reading('pv-1', t - 900, -2), reading('pv-2', t - 800, -1), reading('pv-1', t - 100, -3), reading('pv-2', t, 1)]));
    expect(r.receipts[0]).toMatchObject({ success: true, code: '' });
    const I = intervalOf(BigInt(t) * 1000n, c.ctx().params.settlementIntervalMs);
    expect(intervalTotalsOf(c.state, 'pv-1', I)).toMatchObject({ readings: 2, importWh: 0n, exportWh: 5n, status: 'open' });
    expect(intervalTotalsOf(c.state, 'pv-2', I)).toMatchObject({ readings: 2, importWh: 1n, exportWh: 1n, status: 'open' });
    expect(getMeterCursor(c.state, 'pv-1')!.lastTimestampUs).toBe(BigInt(t - 100) * 1000n);
    expect(hasCloseItem(c.state, I, 'pv-1') && hasCloseItem(c.state, I, 'pv-2')).toBe(true);
  });

  it('verifies readings signed with @noble/curves from the documented layout (interop with blst on chain)', () => {
    const { c, agg, keys } = setup();
    const noble = bls12_381.longSignatures;
    const t = c.now();
    const readings = [reading('pv-1', t - 500, -2), reading('pv-2', t - 400, -1)];
    const sigs = readings.map((r) =>
      noble.sign(noble.hash(readingSigningBytes(ENERGY_CHAIN_ID, r), 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'), keys.get(r.deviceId)!.secretKey),
    );
    const signature = noble.aggregateSignatures(sigs).toBytes();
    expect(blsAggregateSignatures(sigs.map((s) => s.toBytes()))).toEqual(signature);
    const r = c.block(buildTelemetryBatch({ ...c.sender(agg), keyHeight: c.height, readings, signature }));
    expect(r.receipts[0]!.success).toBe(true);
  });
});

describe('telemetry-batch: every rejection path', () => {
  it('an unknown device', () => {
    const { c, agg, keyOf } = setup();
    const tx = batchTx(c, agg, [reading('pv-1', c.now() - 10, -1), reading('ghost', c.now(), -1)], (id) => (id === 'ghost' ? testDeviceKey(9) : keyOf(id)));
    expect(rejection(() => c.check(tx))).toMatchObject({ code: ErrorCode.DEVICE_UNKNOWN, field: 'tx.body.readings[1].deviceId' });
  });

  it('a suspended, a flagged, a revoked device', () => {
    const { c, agg, batch } = setup();
    c.block(buildDeviceStatus({ ...c.sender(agg), id: 'pv-2', action: 'suspend' }));
    const r = (id: string) => rejection(() => c.check(batch([reading(id, c.now(), -1)])));
    expect(r('pv-2')).toMatchObject({ code: ErrorCode.DEVICE_INACTIVE, field: 'tx.body.readings[0].deviceId' });
    expect(r('pv-2').message).toMatch(/suspended/);
    c.block(buildDeviceStatus({ ...c.sender(agg), id: 'pv-2', action: 'revoke' }));
    expect(r('pv-2')).toMatchObject({ code: ErrorCode.DEVICE_INACTIVE });
    expect(r('pv-2').message).toMatch(/revoked/);
    // Flagged for inspection (here by an impossible reading): refused until its operator reactivates it.
    c.block(batch([reading('pv-1', c.now(), -1000)]));
    expect(getDevice(c.state, 'pv-1')!.status).toBe('flagged-for-inspection');
    expect(r('pv-1')).toMatchObject({ code: ErrorCode.DEVICE_INACTIVE });
    c.block(buildDeviceStatus({ ...c.sender(agg), id: 'pv-1', action: 'reactivate' }));
    expect(() => c.check(batch([reading('pv-1', c.now(), -1)]))).not.toThrow();
  });

  it('a device of another aggregator is skipped (a batch of nothing else is refused), and a sender without the aggregator or dso role', () => {
    const { c, agg, nobody, batch } = setup();
    expect(rejection(() => c.check(batch([reading('pv-x', c.now() - 5, -1), reading('pv-x', c.now(), -1)])))).toMatchObject({
      code: ErrorCode.TX_UNAUTHORIZED,
      field: 'tx.body.readings[0].deviceId',
    });
    // Entering the mempool, every device must count.
    const entering = batch([reading('pv-1', c.now() - 5, -1), reading('pv-x', c.now(), -1)]);
    expect(rejection(() => checkTx(c.state, entering, { ...c.ctx(), entering: true }, { allowFutureNonce: true }))).toMatchObject({
      code: ErrorCode.TX_UNAUTHORIZED,
      field: 'tx.body.readings[1].deviceId',
    });
    const mixed = c.block(entering);
    // The sender's own changed device does not keep a batch out of the pool: the block skips it.
    c.block(buildDeviceStatus({ ...c.sender(agg), id: 'pv-2', action: 'suspend' }));
    const own = batch([reading('pv-1', c.now(), -1), reading('pv-2', c.now(), -1)]);
    expect(() => checkTx(c.state, own, { ...c.ctx(), entering: true }, { allowFutureNonce: true })).not.toThrow();
    expect(mixed.receipts[0]!.success).toBe(true);
    expect(skippedDevices(mixed.receipts[0]!.events)).toEqual(new Map([['pv-x', ErrorCode.TX_UNAUTHORIZED]]));
    expect(getMeterCursor(c.state, 'pv-x')).toBeUndefined();
    expect(getMeterCursor(c.state, 'pv-1')).toBeDefined();
    expect(rejection(() => c.check(batch([reading('pv-1', c.now(), -1)], {}, nobody)))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
  });

  it('a replayed reading, and timestamps out of order within the batch or against the chain', () => {
    const { c, batch } = setup();
    const t = c.now();
    const first = [reading('pv-1', t - 500, -1), reading('pv-2', t - 400, -1)];
    c.block(batch(first));
    // The same readings again (a new tx: another nonce): none may count twice.
    expect(rejection(() => c.check(batch(first)))).toMatchObject({ code: ErrorCode.TELEMETRY_OUT_OF_ORDER, field: 'tx.body.readings[0].timestampUs' });
    // Older than the last on chain.
    expect(rejection(() => c.check(batch([reading('pv-2', t - 450, -1)])))).toMatchObject({ code: ErrorCode.TELEMETRY_OUT_OF_ORDER });
    // Out of order inside one batch (a stateless rule: refused before any state is read).
    expect(rejection(() => c.check(batch([reading('pv-1', t + 300, -1), reading('pv-2', t + 100, -1), reading('pv-1', t + 200, -1)])))).toMatchObject({
      code: ErrorCode.TELEMETRY_OUT_OF_ORDER,
      field: 'tx.body.readings[2].timestampUs',
    });
    expect(rejection(() => c.check(batch([reading('pv-1', t + 300, -1), reading('pv-1', t + 300, -1)])))).toMatchObject({
      code: ErrorCode.TELEMETRY_OUT_OF_ORDER,
    });
    // A later one is fine.
    expect(() => c.check(batch([reading('pv-1', t + 300, -1)]))).not.toThrow();
  });

  it('a timestamp beyond the skew of the block time, or in an interval already settled', () => {
    const { c, batch } = setup();
    const p = c.ctx().params;
    const t = c.now();
    expect(rejection(() => c.check(batch([reading('pv-1', t + p.maxReadingSkewMs + 1, -1)])))).toMatchObject({
      code: ErrorCode.TELEMETRY_SKEW,
      field: 'tx.body.readings[0].timestampUs',
    });
    expect(rejection(() => c.check(batch([reading('pv-1', t - p.maxReadingSkewMs - 1, -1)])))).toMatchObject({ code: ErrorCode.TELEMETRY_SKEW });
    // Move to 1 s past an interval's settlement: a reading 1 ms before that interval's end is within the skew, but settled.
    const I = intervalOf(BigInt(c.now()) * 1000n, p.settlementIntervalMs);
    c.advance(I + p.settlementIntervalMs + p.settlementDelayMs + 1000 - c.now());
    const late = I + p.settlementIntervalMs - 1;
    expect(c.now() - late).toBeLessThan(p.maxReadingSkewMs);
    expect(rejection(() => c.check(batch([reading('pv-1', late, -1)])))).toMatchObject({
      code: ErrorCode.TELEMETRY_SETTLED,
      field: 'tx.body.readings[0].timestampUs',
    });
    expect(() => c.check(batch([reading('pv-1', c.now(), -1)]))).not.toThrow();
  });

  it('one bad signature among 1,000 readings rejects the batch, at admission and in a block', () => {
    const { c, agg, keys } = setup();
    const ids = Array.from({ length: 50 }, (_, i) => `m-${i}`);
    const regs = ids.map((id, i) => buildDeviceRegister({ ...c.sender(agg, i), device: registerBody(id, testDeviceKey(100 + i), agg.address) }));
    c.block(...regs);
    ids.forEach((id, i) => keys.set(id, testDeviceKey(100 + i)));
    const t = c.now();
    const readings = Array.from({ length: 1000 }, (_, i) => reading(ids[i % 50]!, t - 1000, 0, Math.floor(i / 50)));
    const tx = batchTx(c, agg, readings, (id) => keys.get(id)!, { spoil: [617] });
    expect(rejection(() => c.check(tx))).toMatchObject({ code: ErrorCode.TX_BAD_SIGNATURE, field: 'tx.body.signature' });
    expect(rejection(() => executeBlock(c.state, [tx], c.ctx())).message).toMatch(/TX_BAD_SIGNATURE/);
    expect(() => c.check(batchTx(c, agg, readings, (id) => keys.get(id)!))).not.toThrow();
  });

  it('a reading signed with a key rotated out: refused by name; old readings stay counted', () => {
    const { c, agg, keys, batch } = setup();
    const old = keys.get('pv-1')!;
    const t0 = c.now();
    const before = c.height;
    c.block(batch([reading('pv-1', t0, -1)]));
    const fresh = testDeviceKey(77);
    c.block(buildDeviceRekey({ ...c.sender(agg), id: 'pv-1', publicKey: fresh.publicKey, proofOfPossession: devicePop(fresh) }));
    const rekeyedFrom = c.height;
    // Signed with the old key and saying so (keys at a height before the re-key): refused by name.
    const stale = batchTx(c, agg, [reading('pv-1', c.now(), -1)], () => old, { keyHeight: before });
    expect(rejection(() => c.check(stale))).toMatchObject({ code: ErrorCode.TELEMETRY_KEY_ROTATED, field: 'tx.body.readings[0].deviceId' });
    expect(rejection(() => c.check(stale)).message).toContain(`valid from height ${rekeyedFrom}`);
    // Signed with the old key but claiming the current keys: the aggregate does not verify.
    expect(rejection(() => c.check(batchTx(c, agg, [reading('pv-1', c.now(), -1)], () => old)))).toMatchObject({ code: ErrorCode.TX_BAD_SIGNATURE });
    // The new key signs.
    c.block(batchTx(c, agg, [reading('pv-1', c.now(), -1)], () => fresh));
    expect(getMeterCursor(c.state, 'pv-1')!.lastTimestampUs).toBe(BigInt(c.now() - 1000) * 1000n);
    // A key height above the height checked for is refused (keys there are not settled yet).
    expect(rejection(() => c.check(batchTx(c, agg, [reading('pv-1', c.now(), -1)], () => fresh, { keyHeight: c.height + 1 })))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.keyHeight',
    });
  });

  it('a device registered in the same block has no key yet', () => {
    const { c, agg } = setup();
    const k = testDeviceKey(50);
    const reg = buildDeviceRegister({ ...c.sender(agg), device: registerBody('late', k, agg.address) });
    const tx = batchTx(c, agg, [reading('late', c.now(), -1)], () => k, { offset: 1 });
    expect(rejection(() => executeBlock(c.state, [reg, tx], c.ctx())).message).toMatch(/DEVICE_INACTIVE/);
  });
});

describe('telemetry-batch: a device changed between admission and inclusion is skipped, not the batch', () => {
  it("suspended by an earlier tx of the block: its readings are skipped, the other devices' count", () => {
    const { c, agg, batch } = setup();
    const t = c.now();
    const tx = batch([reading('pv-1', t - 20, -1), reading('pv-2', t - 10, -1), reading('pv-2', t, -1)], { offset: 1 });
    expect(() => c.check(tx)).not.toThrow();
    const r = c.block(buildDeviceStatus({ ...c.sender(agg), id: 'pv-2', action: 'suspend' }), tx);
    expect(r.receipts[1]).toMatchObject({ success: true, code: '' });
    expect(r.receipts[1]!.events).toEqual([
      {
        type: 'telemetry-skipped',
        attributes: [
          ['device', 'pv-2'],
          ['reason', ErrorCode.DEVICE_INACTIVE],
          ['readings', '2'],
        ],
      },
      {
        type: 'telemetry',
        attributes: [
          ['readings', '1'],
          ['devices', '1'],
          ['intervals', '1'],
          ['skipped', '2'],
        ],
      },
    ]);
    expect(getMeterCursor(c.state, 'pv-1')!.lastTimestampUs).toBe(BigInt(t - 20) * 1000n);
    expect(getMeterCursor(c.state, 'pv-2')).toBeUndefined();
    const I = intervalOf(BigInt(t) * 1000n, c.ctx().params.settlementIntervalMs);
    expect(hasCloseItem(c.state, I, 'pv-2')).toBe(false);
  });

  it('re-keyed after the batch was signed: skipped as TELEMETRY_KEY_ROTATED (a rotated-out key signs nothing)', () => {
    const { c, agg, keyOf } = setup();
    const t = c.now();
    // Signed and admitted with the keys of this height; included after pv-1's re-key took effect.
    const tx = batchTx(c, agg, [reading('pv-1', t + 980, -1), reading('pv-2', t + 990, -1)], keyOf, { offset: 1 });
    expect(() => c.check(tx)).not.toThrow();
    const fresh = testDeviceKey(78);
    c.block(buildDeviceRekey({ ...c.sender(agg), id: 'pv-1', publicKey: fresh.publicKey, proofOfPossession: devicePop(fresh) }));
    const r = c.block(tx);
    expect(r.receipts[0]!.success).toBe(true);
    expect(skippedDevices(r.receipts[0]!.events)).toEqual(new Map([['pv-1', ErrorCode.TELEMETRY_KEY_ROTATED]]));
    expect(getMeterCursor(c.state, 'pv-1')).toBeUndefined();
    expect(getMeterCursor(c.state, 'pv-2')!.lastTimestampUs).toBe(BigInt(t + 990) * 1000n);
  });

  it('every device of the batch changed: the batch is refused, with its first device named', () => {
    const { c, agg, batch } = setup();
    const tx = batch([reading('pv-2', c.now() - 10, -1), reading('pv-1', c.now(), -1)], { offset: 2 });
    const suspend = (id: string, i: number) => buildDeviceStatus({ ...c.sender(agg, i), id, action: 'suspend' });
    const message = rejection(() => executeBlock(c.state, [suspend('pv-1', 0), suspend('pv-2', 1), tx], c.ctx())).message;
    expect(message).toMatch(/DEVICE_INACTIVE/);
    expect(message).toMatch(/"pv-2" is suspended/);
    // One of them still active: the batch is included.
    const afterOne = batch([reading('pv-2', c.now() - 10, -1), reading('pv-1', c.now(), -1)], { offset: 1 });
    expect(executeBlock(c.state, [suspend('pv-1', 0), afterOne], c.ctx()).receipts.map((x) => x.success)).toEqual([true, true]);
  });
});

describe('telemetry-batch: impossible energy (judged at execution; that device skipped and flagged)', () => {
  it("is admitted and included, counts none of that device's readings, flags it, and counts the other devices'", () => {
    const { c, batch } = setup();
    const t = c.now();
    c.block(batch([reading('pv-1', t - 1000, -1), reading('pv-2', t - 1000, -1)]));
    const cursor = getMeterCursor(c.state, 'pv-1');
    // Two seconds at 10 kW are 5.56 Wh (plus at most 1 Wh carried): 50 Wh is impossible.
    // pv-1: a possible reading, an impossible one, and a possible one after it; none counts.
    const tx = batch([reading('pv-1', c.now() - 20, -1), reading('pv-2', c.now() - 10, -1), reading('pv-1', c.now(), -50), reading('pv-1', c.now() + 900, 0)]);
    expect(() => c.check(tx)).not.toThrow();
    const r = c.block(tx);
    expect(r.receipts[0]).toMatchObject({ success: true, code: '' });
    expect(r.receipts[0]!.feePaid).toBe(25n);
    expect(r.receipts[0]!.events).toEqual([
      {
        type: 'device-flagged',
        attributes: [
          ['device', 'pv-1'],
          ['reason', 'impossible-energy'],
          ['timestampUs', String(BigInt(c.now() - 1000) * 1000n)],
          ['netEnergyWh', '-50'],
          // 20 ms after its reading in the batch: 0.06 Wh and the 1 Wh carry.
          ['allowedWh', '1'],
        ],
      },
      {
        type: 'telemetry-skipped',
        attributes: [
          ['device', 'pv-1'],
          ['reason', ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY],
          ['readings', '3'],
        ],
      },
      {
        type: 'telemetry',
        attributes: [
          ['readings', '1'],
          ['devices', '1'],
          ['intervals', '0'],
          ['skipped', '3'],
        ],
      },
    ]);
    expect(getDevice(c.state, 'pv-1')!.status).toBe('flagged-for-inspection');
    expect(getDevice(c.state, 'pv-2')!.status).toBe('active');
    // None of pv-1's readings counted, its possible first one neither; pv-2's did.
    expect(getMeterCursor(c.state, 'pv-1')).toEqual(cursor);
    expect(getMeterCursor(c.state, 'pv-2')!.lastTimestampUs).toBe(BigInt(c.now() - 1010) * 1000n);
  });

  it('depends on the state the block has reached: the same batch is possible alone, impossible after an earlier one', () => {
    const { c, batch } = setup();
    const t = c.now();
    c.block(batch([reading('pv-1', t - 1000, -1)]));
    const now = c.now();
    // 6 Wh at 1.99 s after the last reading fits (10 kW x 1.99 s = 5.5 Wh, + 1 Wh carry).
    const b = batch([reading('pv-1', now - 10, -6)], { offset: 1 });
    const a = batch([reading('pv-1', now - 500, -1)]);
    const alone = executeBlock(c.state, [batch([reading('pv-1', now - 10, -6)])], c.ctx());
    expect(skippedDevices(alone.receipts[0]!.events).size).toBe(0);
    // After a (which moved the device's last reading 1.5 s later), b's span is 0.49 s: at most 1.36 Wh + 1 Wh.
    const both = executeBlock(c.state, [a, b], c.ctx());
    expect(skippedDevices(both.receipts[0]!.events).size).toBe(0);
    expect(skippedDevices(both.receipts[1]!.events)).toEqual(new Map([['pv-1', ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY]]));
  });

  it('a burst of readings a microsecond apart gets the 1 Wh register carry once, not per reading', () => {
    const { c, batch } = setup();
    const t = c.now();
    c.block(batch([reading('pv-1', t - 1000, 0)]));
    const now = c.now();
    // The first reading of the burst has 2 s at 10 kW (5.56 Wh) and the 1 Wh carry; it leaves at
    // most 1 Wh (the cap) for the next, 1 µs later; the third has nothing left.
    const fits = executeBlock(c.state, [batch([reading('pv-1', now, -1), reading('pv-1', now, -1, 1)])], c.ctx());
    expect(skippedDevices(fits.receipts[0]!.events).size).toBe(0);
    const burst = executeBlock(c.state, [batch([reading('pv-1', now, -1), reading('pv-1', now, -1, 1), reading('pv-1', now, -1, 2)])], c.ctx());
    expect(skippedDevices(burst.receipts[0]!.events)).toEqual(new Map([['pv-1', ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY]]));
  });
});

describe('telemetry-batch: skips on the node staged loads', () => {
  it('a block skipping a suspended device and flagging an impossible one reads only what it declared, and ends as the unguarded run does', async () => {
    const { c, agg, batch } = setup();
    c.block(batch([reading('pv-1', c.now() - 1000, -1), reading('pv-2', c.now() - 1000, -1)]));
    const t = c.now();
    const txs = [
      buildDeviceStatus({ ...c.sender(agg), id: 'pv-2', action: 'suspend' }),
      batch([reading('pv-1', t - 20, -1), reading('pv-2', t - 10, -1), reading('pv-1', t, -1)], { offset: 1 }),
      batch([reading('pv-1', t + 10, -500)], { offset: 2 }),
    ];
    const staged = await executeAsTheNode(c.state, txs, c.ctx());
    const plain = executeBlock(c.state, txs, c.ctx(), { strictAccess: false });
    expect(staged.receipts).toEqual(plain.receipts);
    expect(staged.changes).toEqual(plain.changes);
    expect(skippedDevices(staged.receipts[1]!.events)).toEqual(new Map([['pv-2', ErrorCode.DEVICE_INACTIVE]]));
    expect(skippedDevices(staged.receipts[2]!.events)).toEqual(new Map([['pv-1', ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY]]));
  });
});
