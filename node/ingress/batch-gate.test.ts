import { describe, expect, it, vi } from 'vitest';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { addressFromPublicKey, blsGenerate, blsSign, ed25519Generate, type BlsKeyPair } from '../../core/keys.ts';
import { DEVNET_PARAMS } from '../../core/params.ts';
import { verifySignatureSet } from '../../core/signature-sets.ts';
import { readingSigningBytes } from '../../core/telemetry.ts';
import { readingAllowance } from '../../vm/telemetry/allowance.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import type { VerificationService } from '../verify/service.ts';
import { cancellingSignatures } from '../verify/testing/sets.ts';
import { BatchGate, type GateVerdicts, type KeyedReading } from './batch-gate.ts';
import { testDeviceRecord } from './testing/device-record.ts';

/**
 * The check a batch's readings pass as it is built: what it accepts must verify together
 * (the batch's aggregate) and never make the batch fail on chain, whichever of the batches
 * before it reach the chain; and what a reading it refuses can do to the others is nothing:
 * a forged reading moves no cursor and spends no rate, two signatures whose errors cancel
 * never reach a batch apart.
 */

const CHAIN = 'joule-test';
const p = DEVNET_PARAMS;

/**
 * `opts.hold`: the verification job of that number (from 0) answers only once `release()`
 * is called; `opts.refuse`: that job is refused as a full queue refuses it.
 */
function setup(opts: { rate?: { perSecond: number; burst: number }; hold?: number; refuse?: number } = {}) {
  const aggregator = addressFromPublicKey(ed25519Generate().publicKey);
  const keys = new Map<string, BlsKeyPair>();
  const keyOf = (id: string) => {
    let k = keys.get(id);
    if (k === undefined) keys.set(id, (k = blsGenerate()));
    return k;
  };
  // An interval's first ms plus a second: its readings are far from settling.
  let now = 1_800_000_000_000 - (1_800_000_000_000 % p.settlementIntervalMs) + 1000;
  const service = new SameThreadVerifier();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let jobs = 0;
  const counted = async <T>(job: () => Promise<T>): Promise<T> => {
    const n = jobs++;
    if (n === opts.refuse) throw new JouleError(ErrorCode.RATE_LIMITED, 'the telemetry queue is full');
    const out = await job();
    if (n === opts.hold) await held;
    return out;
  };
  const jobsHere: VerificationService = {
    findInvalid: (sets, o) => counted(() => service.findInvalid(sets, o)),
    findInvalidTogether: (sets, o) => counted(() => service.findInvalidTogether(sets, o)),
    verify: (sets, o) => service.verify(sets, o),
    close: () => service.close(),
  };
  const gate = new BatchGate({
    chainId: CHAIN,
    service: jobsHere,
    device: (id) => testDeviceRecord(id, keyOf(id).publicKey, aggregator),
    // No reading of any device on chain: its first batch is still pending, or was lost.
    chainCursor: () => undefined,
    settlementIntervalMs: () => p.settlementIntervalMs,
    clock: () => now,
    ...(opts.rate === undefined ? {} : { rate: opts.rate }),
  });
  const reading = (id: string, atMs: number, wh: bigint, signer?: BlsKeyPair): KeyedReading => {
    const r = { deviceId: id, timestampUs: BigInt(atMs) * 1000n, netEnergyWh: wh, stateOfChargePercent: 0 };
    return { ...r, signature: blsSign((signer ?? keyOf(id)).secretKey, readingSigningBytes(CHAIN, r)), publicKey: keyOf(id).publicKey };
  };
  /**
   * Whether the signature the gate answered is the accepted readings' aggregate: the batch's
   * check on chain, with the signature the aggregator signs the batch with.
   */
  const batchVerifies = (readings: readonly KeyedReading[], { verdicts, signature }: GateVerdicts) => {
    const kept = readings.filter((_, i) => verdicts[i]!.ok);
    return (
      signature !== undefined &&
      verifySignatureSet({
        kind: 'bls-aggregate',
        publicKeys: kept.map((r) => r.publicKey),
        messages: kept.map((r) => readingSigningBytes(CHAIN, r)),
        signature,
      })
    );
  };
  return { gate, service, reading, keyOf, batchVerifies, release, jobs: () => jobs, now: () => now, advance: (ms: number) => (now += ms) };
}

const codes = ({ verdicts }: GateVerdicts) => verdicts.map((x) => (x.ok ? 'ok' : x.code));

describe('BatchGate', () => {
  it("while none of a device's readings is on chain, each must pass as its first there: its earlier ones' batch may be lost", async () => {
    const s = setup();
    expect((await s.gate.check([s.reading('pv', s.now(), -1n)])).verdicts).toEqual([{ ok: true }]);
    // A minute later, 150 Wh: possible after the accepted reading (10 kW for 60 s is 166 Wh),
    // not as the device's first on chain (10 kW for one 30 s interval, 83 Wh, and the 1 Wh carry).
    s.advance(60_000);
    const later = s.reading('pv', s.now(), -150n);
    expect(readingAllowance(undefined, later, testDeviceRecord('pv', s.keyOf('pv').publicKey, new Uint8Array(20)), p.settlementIntervalMs).possible).toBe(
      false,
    );
    const {
      verdicts: [v],
    } = await s.gate.check([later]);
    expect(v).toMatchObject({ ok: false, code: ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY });
    // What the chain would take as a first reading is accepted.
    expect((await s.gate.check([s.reading('pv', s.now() + 1, -80n)])).verdicts).toEqual([{ ok: true }]);
  });

  it('one check for a whole batch that verifies; a forged reading among 256 costs O(log n) more, and only it is refused', async () => {
    const s = setup();
    const readings = Array.from({ length: 256 }, (_, i) => s.reading(`d${i}`, s.now(), -1n));
    const all = await s.gate.check(readings);
    expect(codes(all)).toEqual(readings.map(() => 'ok'));
    expect(s.service.counter.checks).toBe(256 / 64); // one aggregate check a chunk
    expect(s.batchVerifies(readings, all)).toBe(true);
    s.advance(1000);
    const next = Array.from({ length: 256 }, (_, i) => s.reading(`d${i}`, s.now(), -1n, i === 77 ? s.keyOf('other') : undefined));
    const before = s.service.counter.checks;
    const verdicts = await s.gate.check(next);
    expect(codes(verdicts).flatMap((c, i) => (c === 'ok' ? [] : [[i, c]]))).toEqual([[77, ErrorCode.TX_BAD_SIGNATURE]]);
    expect(s.service.counter.checks - before).toBeLessThanOrEqual(4 + 2 * Math.log2(64));
    expect(s.batchVerifies(next, verdicts)).toBe(true);
  });

  it("a forged reading with a later timestamp, in the same batch or the one before, does not lock the device's genuine readings out", async () => {
    const s = setup();
    const t = s.now();
    const forged = s.reading('pv', t + 5000, 0n, s.keyOf('attacker'));
    const genuine = s.reading('pv', t, -1n);
    expect(codes(await s.gate.check([forged, genuine]))).toEqual([ErrorCode.TX_BAD_SIGNATURE, 'ok']);
    expect(codes(await s.gate.check([s.reading('pv', t + 6000, 0n, s.keyOf('attacker'))]))).toEqual([ErrorCode.TX_BAD_SIGNATURE]);
    expect(s.gate.lastAcceptedUs('pv')).toBe(BigInt(t) * 1000n);
    expect(codes(await s.gate.check([s.reading('pv', t + 1000, -1n)]))).toEqual(['ok']);
  });

  it('forged readings spend none of the rate a device is allowed: only readings its key signed count', async () => {
    const s = setup({ rate: { perSecond: 1, burst: 2 } });
    const t = s.now();
    const forged = [1, 2, 3, 4].map((k) => s.reading('pv', t + k, 0n, s.keyOf('attacker')));
    const genuine = [s.reading('pv', t + 10, 0n), s.reading('pv', t + 20, 0n), s.reading('pv', t + 30, 0n)];
    expect(codes(await s.gate.check([...forged, ...genuine]))).toEqual([...forged.map(() => ErrorCode.TX_BAD_SIGNATURE), 'ok', 'ok', ErrorCode.RATE_LIMITED]);
  });

  it('two signatures whose errors cancel never reach a batch apart: when the order refuses one, the other is found', async () => {
    const s = setup();
    const t = s.now();
    expect(codes(await s.gate.check([s.reading('b', t, 0n)]))).toEqual(['ok']);
    // a's reading and a replay of b's (out of order now) signed so that their errors cancel.
    const a = s.reading('a', t + 1, -1n);
    const b = s.reading('b', t, 0n);
    const [sa, sb] = cancellingSignatures(s.keyOf('a').secretKey, readingSigningBytes(CHAIN, a), s.keyOf('b').secretKey, readingSigningBytes(CHAIN, b));
    const others = Array.from({ length: 5 }, (_, i) => s.reading(`o${i}`, t + 1, -1n));
    const batch = [...others, { ...a, signature: sa }, { ...b, signature: sb }];
    const verdicts = await s.gate.check(batch);
    expect(codes(verdicts)).toEqual([...others.map(() => 'ok'), ErrorCode.TX_BAD_SIGNATURE, ErrorCode.TX_BAD_SIGNATURE]);
    expect(s.batchVerifies(batch, verdicts)).toBe(true);
  });

  it("a batch sent again without some readings: the rest's sum, and the partner of a removed reading whose error another cancelled dropped", async () => {
    const s = setup();
    const t = s.now();
    const a = s.reading('a', t, -1n);
    const b = s.reading('b', t, 0n);
    const [sa, sb] = cancellingSignatures(s.keyOf('a').secretKey, readingSigningBytes(CHAIN, a), s.keyOf('b').secretKey, readingSigningBytes(CHAIN, b));
    const others = Array.from({ length: 4 }, (_, i) => s.reading(`o${i}`, t, -1n));
    const kept = [...others, { ...b, signature: sb }];
    const ok = (readings: readonly KeyedReading[]) => ({ verdicts: readings.map(() => ({ ok: true as const })) });
    // Without a genuine reading: nothing else goes, and the sum is the rest's.
    const plain = await s.gate.keepTogether(others.slice(1), others.slice(0, 1));
    expect(plain.drop).toEqual([]);
    expect(s.batchVerifies(others.slice(1), { ...ok(others.slice(1)), signature: plain.signature })).toBe(true);
    // Without `a`, whose error `b` cancelled: `b` goes too.
    const split = await s.gate.keepTogether(kept, [{ ...a, signature: sa }]);
    expect(split.drop).toEqual([4]);
    expect(s.batchVerifies(others, { ...ok(others), signature: split.signature })).toBe(true);
  });

  it('a reading the order refuses that verifies alone leaves the rest verifying together, with no second check of them', async () => {
    const s = setup();
    const t = s.now();
    const batch = [s.reading('a', t, -1n), s.reading('a', t, -1n), s.reading('b', t, -1n)];
    const verdicts = await s.gate.check(batch);
    expect(codes(verdicts)).toEqual(['ok', ErrorCode.TELEMETRY_OUT_OF_ORDER, 'ok']);
    expect(s.batchVerifies(batch, verdicts)).toBe(true);
    expect(s.service.counter.checks).toBe(2); // the batch together, then the refused one alone
  });

  it("a batch's signatures are checked while the batch before waits for its own; its order still starts from the cursors that batch left", async () => {
    // The first job (the first batch's signatures) answers only once released.
    const s = setup({ hold: 0 });
    const t = s.now();
    const first = s.gate.check([s.reading('pv', t, -1n)]);
    // A replay of the first batch's reading, and the device's next one.
    const second = s.gate.check([s.reading('pv', t, -1n), s.reading('pv', t + 1000, -1n)]);
    await vi.waitFor(() => expect(s.jobs()).toBe(2));
    s.release();
    expect(codes(await first)).toEqual(['ok']);
    expect(codes(await second)).toEqual([ErrorCode.TELEMETRY_OUT_OF_ORDER, 'ok']);
    expect(s.gate.lastAcceptedUs('pv')).toBe(BigInt(t + 1000) * 1000n);
  });

  it('a batch whose check is refused (its job shed) while the one before is still checked fails alone', async () => {
    const s = setup({ hold: 0, refuse: 1 });
    const t = s.now();
    const first = s.gate.check([s.reading('pv', t, -1n)]);
    const second = s.gate.check([s.reading('pv', t + 1000, -1n)]);
    await vi.waitFor(() => expect(s.jobs()).toBe(2));
    // The refusal waits, handled, for the first batch's order.
    await new Promise((r) => setTimeout(r, 20));
    s.release();
    expect(codes(await first)).toEqual(['ok']);
    await expect(second).rejects.toMatchObject({ code: ErrorCode.RATE_LIMITED });
    expect(codes(await s.gate.check([s.reading('pv', t + 1000, -1n)]))).toEqual(['ok']);
  });
});
