import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { DEVNET_PARAMS, type EnergyParams } from '../../core/params.ts';
import { addressFromPublicKey, blsGenerate, blsSign, ed25519Generate, type BlsKeyPair } from '../../core/keys.ts';
import { readingSigningBytes } from '../../core/telemetry.ts';
import { decodeTelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import type { Tx } from '../../core/tx.ts';
import type { ReadingAck } from '../../rpc/node-api.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import { Aggregator, type AggregatorDeps, type AggregatorLimits } from './aggregator.ts';
import { BatchGate, type KeyedReading } from './batch-gate.ts';
import { testDeviceRecord } from './testing/device-record.ts';

/**
 * The aggregator's nonces and its weeding, against a pool it is told about: a batch that
 * is refused or leaves the pool unincluded leaves a hole the next batch fills (not a gap
 * every later batch waits behind), without making pending batches' readings out of order;
 * readings the chain would no longer take (too old, their interval settling, their device
 * inactive or another's, verified under a key the batch's keyHeight no longer names) are
 * dropped one by one, so that none sinks the other devices' readings with its batch.
 */

const CHAIN = 'joule-test';
const NOW_MS = 1_800_000_000_000;
const keys = new Map<string, BlsKeyPair>();

function reading(deviceId: string, ageMs: number): KeyedReading {
  let key = keys.get(deviceId);
  if (key === undefined) keys.set(deviceId, (key = blsGenerate()));
  const r = { deviceId, timestampUs: BigInt(NOW_MS - ageMs) * 1000n, netEnergyWh: -1n, stateOfChargePercent: 0 };
  return { ...r, signature: blsSign(key.secretKey, readingSigningBytes(CHAIN, r)), publicKey: key.publicKey };
}

const AGGREGATOR = addressFromPublicKey(ed25519Generate().publicKey);

/** The record of a device of `keys` (operated by AGGREGATOR, active) with `over` applied. */
function record(id: string, over: Partial<DeviceRecord> = {}): DeviceRecord | undefined {
  const key = keys.get(id)?.publicKey;
  if (key === undefined) return undefined;
  return testDeviceRecord(id, key, AGGREGATOR, over);
}

/** A pool as the aggregator sees it: admitted txs by nonce; `refuse` makes the next submissions fail. */
function setup(
  opts: {
    refuse?: number;
    params?: Partial<EnergyParams>;
    refusal?: (tx: Tx) => JouleError | undefined;
    limits?: Partial<AggregatorLimits>;
    gate?: (g: BatchGate) => AggregatorDeps['gate'];
    /** Nonces of pooled txs of the account that are not batches (grid commands sent from the CLI). */
    others?: ReadonlySet<number>;
  } = {},
) {
  const others = opts.others ?? new Set<number>();
  /** Devices changed since their readings were verified. */
  const changed = new Map<string, Partial<DeviceRecord>>();
  const gate = new BatchGate({
    chainId: CHAIN,
    service: new SameThreadVerifier(),
    device: (id) => record(id, changed.get(id)),
    chainCursor: () => undefined,
    settlementIntervalMs: () => DEVNET_PARAMS.settlementIntervalMs,
    clock: () => NOW_MS,
  });
  const admitted = new Map<number, Tx>();
  const submitted: { tx: Tx; verified: boolean }[] = [];
  const acks: ReadingAck[] = [];
  let refuse = opts.refuse ?? 0;
  const state = { accountNonce: 0 };
  const a = new Aggregator(
    {
      chainId: CHAIN,
      seed: ed25519Generate().seed,
      address: AGGREGATOR,
      keyHeight: () => 5,
      maxTxBytes: () => 64 * 1024,
      poolNonce: () => {
        let n = state.accountNonce;
        while (admitted.has(n) || others.has(n)) n++;
        return n;
      },
      poolHolds: (n) => admitted.has(n) || others.has(n),
      pending: (hash) => [...admitted.values()].some((t) => toHex(t.hash) === toHex(hash)),
      device: (id) => record(id, changed.get(id)),
      params: () => ({ ...DEVNET_PARAMS, ...opts.params }),
      clock: () => NOW_MS,
      submit: async (tx, verified) => {
        submitted.push({ tx, verified });
        const refusal = opts.refusal?.(tx);
        if (refusal !== undefined) throw refusal;
        if (refuse > 0) {
          refuse--;
          throw new JouleError(ErrorCode.TELEMETRY_SKEW, 'refused');
        }
        admitted.set(tx.nonce, tx);
      },
      acks: (x) => acks.push(...x),
      gate: opts.gate === undefined ? gate : opts.gate(gate),
    },
    { maxReadings: 2, maxDelayMs: 1, maxInFlight: 1, ...opts.limits },
  );
  const devicesOf = (tx: Tx) => decodeTelemetryBatchBody(tx.body).readings.map((r) => r.deviceId);
  return { a, admitted, submitted, acks, state, devicesOf, changed };
}

describe('Aggregator', () => {
  it('a refused batch leaves its nonce to the next batch', async () => {
    const s = setup({ refuse: 1 });
    s.a.add([reading('a', 0), reading('b', 0)]);
    await s.a.drain();
    s.a.add([reading('c', 0), reading('d', 0)]);
    await s.a.drain();
    expect(s.submitted.map((x) => x.tx.nonce)).toEqual([0, 0]);
    expect(s.acks.filter((x) => x.outcome === 'rejected').map((x) => x.deviceId)).toEqual(['a', 'b']);
    expect(s.submitted.every((x) => x.verified)).toBe(true);
  });

  it('a batch dropped from the pool leaves a hole the next batch fills, without the devices of the batches pending behind it', async () => {
    const s = setup();
    s.a.add([reading('a', 100), reading('b', 100)]);
    await s.a.drain();
    s.a.add([reading('c', 90), reading('d', 90)]);
    await s.a.drain();
    expect([...s.admitted.keys()]).toEqual([0, 1]);
    // Re-validation drops nonce 0 (its readings grew too old): nonce 1 now waits behind a gap.
    s.admitted.delete(0);
    s.a.add([reading('c', 10), reading('e', 10), reading('f', 10)]);
    await s.a.drain();
    // The hole is filled at once, by a batch without device c (pending at nonce 1: its newer reading would make that one out of order).
    const refill = s.submitted[2]!.tx;
    expect(refill.nonce).toBe(0);
    // It outbids the dropped batch by 10 %, so peers still holding that one take it as a replacement.
    expect(refill.fee).toBe((s.submitted[0]!.tx.fee * 11n) / 10n + 1n);
    expect(s.devicesOf(refill)).toEqual(['e', 'f']);
    expect(s.a.refills).toBe(1);
    // c's reading goes in a batch after the pending one.
    const next = s.submitted[3]!.tx;
    expect(next.nonce).toBe(2);
    expect(s.devicesOf(next)).toEqual(['c']);
    expect(s.a.buffered).toBe(0);
  });

  it('a final batch acknowledges its readings final, with the reason where the chain skipped the device or the batch failed', async () => {
    const s = setup();
    s.a.add([reading('a', 0), reading('b', 0)]);
    await s.a.drain();
    const [first] = s.submitted;
    s.a.included(first!.tx.hash, 9, undefined, new Map([['b', ErrorCode.DEVICE_INACTIVE]]));
    const finals = s.acks.filter((x) => x.outcome === 'final');
    expect(finals.map((x) => [x.deviceId, x.reason, x.height])).toEqual([
      ['a', undefined, 9],
      ['b', ErrorCode.DEVICE_INACTIVE, 9],
    ]);
    // Once only: the batch is forgotten.
    s.a.included(first!.tx.hash, 9, undefined);
    expect(s.acks.filter((x) => x.outcome === 'final')).toHaveLength(2);
    s.a.add([reading('c', 0), reading('d', 0)]);
    await s.a.drain();
    s.a.included(s.submitted[1]!.tx.hash, 10, ErrorCode.TX_INSUFFICIENT_BALANCE);
    expect(s.acks.filter((x) => x.height === 10).map((x) => x.reason)).toEqual([ErrorCode.TX_INSUFFICIENT_BALANCE, ErrorCode.TX_INSUFFICIENT_BALANCE]);
  });

  it('readings too old by batching time are dropped as TELEMETRY_SKEW, not sent to sink their batch', async () => {
    const s = setup();
    const verdicts = s.a.add([reading('a', 9000), reading('b', 100)]);
    await s.a.drain();
    expect(s.submitted).toHaveLength(1);
    expect(s.devicesOf(s.submitted[0]!.tx)).toEqual(['b']);
    expect(await verdicts).toMatchObject([{ ok: false, code: ErrorCode.TELEMETRY_SKEW }, { ok: true }]);
    expect(s.a.stale).toBe(1);
  });

  it('a reading verified under a key the batch would not name is dropped as TELEMETRY_KEY_ROTATED', async () => {
    const s = setup();
    const r = reading('a', 0);
    keys.set('a', blsGenerate()); // re-keyed between its arrival and its batch
    const verdicts = s.a.add([r, reading('b', 0)]);
    await s.a.drain();
    expect(s.devicesOf(s.submitted[0]!.tx)).toEqual(['b']);
    expect(await verdicts).toMatchObject([{ ok: false, code: ErrorCode.TELEMETRY_KEY_ROTATED }, { ok: true }]);
  });

  it("a reading signed with a key a re-key in the head's block rotates out is dropped as TELEMETRY_KEY_ROTATED (admission, checking the next height, would refuse the whole batch)", async () => {
    const s = setup();
    const r = reading('a', 0);
    // Re-keyed in block 5 (the head, the batch's keyHeight): the new key signs from height 6 on.
    s.changed.set('a', {
      keyHistory: [
        { key: keys.get('a')!.publicKey, fromHeight: 1 },
        { key: blsGenerate().publicKey, fromHeight: 6 },
      ],
    });
    const verdicts = s.a.add([r, reading('b', 0)]);
    await s.a.drain();
    expect(s.devicesOf(s.submitted[0]!.tx)).toEqual(['b']);
    expect(await verdicts).toMatchObject([{ ok: false, code: ErrorCode.TELEMETRY_KEY_ROTATED }, { ok: true }]);
  });

  it("a batch refused at admission for one device changed since its build: that device's readings dropped, the others' sent again at the same nonce", async () => {
    // Admission checks a batch against the state when it gets its turn (it waits while a
    // block is built and stored): a device that block suspended refuses the batch whole.
    const s = setup({
      refusal: (tx) => {
        const i = s.devicesOf(tx).indexOf('b');
        if (i < 0) return undefined;
        // The block committed while the batch waited suspended b: the head the aggregator sees says so too.
        s.changed.set('b', { status: 'suspended' });
        return new JouleError(ErrorCode.DEVICE_INACTIVE, 'device "b" is suspended', `tx.body.readings[${i}].deviceId`);
      },
    });
    s.a.add([reading('a', 10), reading('b', 10)]);
    await s.a.drain();
    expect(s.submitted.map((x) => [x.tx.nonce, s.devicesOf(x.tx)])).toEqual([
      [0, ['a', 'b']],
      [0, ['a']],
    ]);
    expect([...s.admitted.keys()]).toEqual([0]);
    expect(s.acks.filter((x) => x.outcome === 'rejected').map((x) => [x.deviceId, x.reason])).toEqual([['b', ErrorCode.DEVICE_INACTIVE]]);
    expect(s.acks.filter((x) => x.outcome === 'batched').map((x) => x.deviceId)).toEqual(['a']);
  });

  it('readings of a device suspended, flagged or handed to another operator since they were verified are dropped, not sent to be skipped', async () => {
    const s = setup();
    const verified = [reading('flagged', 10), reading('moved', 10), reading('ok', 10)];
    s.changed.set('flagged', { status: 'flagged-for-inspection' });
    s.changed.set('moved', { operator: new Uint8Array(20).fill(7) });
    const verdicts = s.a.add(verified);
    await s.a.drain();
    expect(s.submitted).toHaveLength(1);
    expect(s.devicesOf(s.submitted[0]!.tx)).toEqual(['ok']);
    expect(await verdicts).toMatchObject([{ ok: false, code: ErrorCode.DEVICE_INACTIVE }, { ok: false, code: ErrorCode.DEVICE_NOT_SERVED }, { ok: true }]);
  });

  it('a reading whose interval settles before its batch could be included is dropped as TELEMETRY_SETTLED', async () => {
    // NOW_MS starts an interval: a reading 100 ms old is in the one before, which settles 1 s from now,
    // inside the quarter of the skew (2.5 s) left for admission and inclusion.
    expect(NOW_MS % DEVNET_PARAMS.settlementIntervalMs).toBe(0);
    const s = setup({ params: { settlementDelayMs: 1000 } });
    const verdicts = s.a.add([reading('late', 100), reading('fresh', 0)]);
    await s.a.drain();
    expect(s.devicesOf(s.submitted[0]!.tx)).toEqual(['fresh']);
    expect(await verdicts).toMatchObject([{ ok: false, code: ErrorCode.TELEMETRY_SETTLED }, { ok: true }]);
  });

  it('weeds exactly with a skew whose quarter is no whole ms', async () => {
    const s = setup({ params: { maxReadingSkewMs: 10_001 } });
    // 3/4 of 10,001 ms is 7,500.75 ms: 7,500 ms old is young enough, 7,501 ms too old.
    const verdicts = s.a.add([reading('a', 7501), reading('b', 7500)]);
    await s.a.drain();
    expect(s.devicesOf(s.submitted[0]!.tx)).toEqual(['b']);
    expect(await verdicts).toMatchObject([{ ok: false, code: ErrorCode.TELEMETRY_SKEW }, { ok: true }]);
  });
  it('a pooled tx of the account that is not a batch (a grid command sent from the CLI) keeps its nonce, in the run or past a gap', async () => {
    const s = setup({ others: new Set([1, 3]) });
    for (const d of ['a', 'b', 'c']) {
      s.a.add([reading(d, 0), reading(`${d}2`, 0)]);
      await s.a.drain();
    }
    expect(s.submitted.map((x) => x.tx.nonce)).toEqual([0, 2, 4]);
  });

  it('admission learns which nonces its batches hold: from the check until the batch leaves the pool, against any other tx of the account', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const s = setup({
      gate: (g) => ({
        check: async (readings) => {
          await held;
          return g.check(readings);
        },
        keepTogether: (kept, removed) => g.keepTogether(kept, removed),
      }),
    });
    expect(s.a.after).toBe(0);
    s.a.add([reading('a', 0), reading('b', 0)]);
    // In its check: nonce 0 is held, though no tx is built yet.
    const someTx = (nonce: number, from = AGGREGATOR) => ({ from, nonce, hash: new Uint8Array(32).fill(nonce + 1) }) as unknown as Tx;
    expect(s.a.takes(someTx(0))).toBe(true);
    expect(s.a.takes(someTx(1))).toBe(false);
    expect(s.a.takes(someTx(0, new Uint8Array(20)))).toBe(false);
    expect(s.a.after).toBe(1);
    release();
    await s.a.drain();
    // Pending: the batch itself is not refused, another tx at its nonce is.
    const batch = s.submitted[0]!.tx;
    expect(s.a.takes(batch)).toBe(false);
    expect(s.a.takes(someTx(0))).toBe(true);
    // Included (it left the pool): the nonce is the chain's to refuse now, not ours.
    s.admitted.delete(0);
    s.state.accountNonce = 1;
    expect(s.a.takes(someTx(0))).toBe(false);
    expect(s.a.after).toBe(0);
  });

  it('up to three batches are in the check at once, each at its own nonce, in order; the next waits for one to be done', async () => {
    let inCheck = 0;
    let most = 0;
    const s = setup({
      limits: { maxInFlight: 4 },
      gate: (g) => ({
        check: async (readings) => {
          most = Math.max(most, ++inCheck);
          // Let every batch that can start do so before this one's verdicts.
          await new Promise((r) => setTimeout(r, 20));
          const v = await g.check(readings);
          inCheck--;
          return v;
        },
        keepTogether: (kept, removed) => g.keepTogether(kept, removed),
      }),
    });
    const verdicts = s.a.add(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((d) => reading(d, 0)));
    await s.a.drain();
    expect((await verdicts).every((v) => v.ok)).toBe(true);
    expect(most).toBe(3);
    expect(s.submitted.map((x) => x.tx.nonce)).toEqual([0, 1, 2, 3]);
    expect(s.submitted.map((x) => s.devicesOf(x.tx))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
      ['g', 'h'],
    ]);
  });
});
