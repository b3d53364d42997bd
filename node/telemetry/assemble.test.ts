import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { blsAggregateVerify, blsFromSecret, blsSign, type BlsKeyPair } from '../../core/keys.ts';
import { readingSigningBytes, type Reading } from '../../core/telemetry.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import { WorkerPoolVerifier } from '../verify/worker-pool.ts';
import { aggregateVerifiedReadings, type SignedReading } from './assemble.ts';

const CHAIN = 'joule-test';
const keys: BlsKeyPair[] = Array.from({ length: 50 }, (_, i) => blsFromSecret(new Uint8Array(32).fill(i + 1)));
const keyOf = (id: string) => keys[Number(id.slice(2))]?.publicKey;

/** 1,000 readings of 50 devices, each signed by its device; `spoilt` ones signed over another energy. */
function fleetReadings(n: number, spoilt: readonly number[] = []): SignedReading[] {
  return Array.from({ length: n }, (_, i) => {
    const d = i % 50;
    const r: Reading = { deviceId: `m-${d}`, timestampUs: 1_700_000_000_000_000n + BigInt(i), netEnergyWh: -BigInt(i % 7), stateOfChargePercent: 0 };
    const signed = spoilt.includes(i) ? { ...r, netEnergyWh: r.netEnergyWh - 1n } : r;
    return { ...r, signature: blsSign(keys[d]!.secretKey, readingSigningBytes(CHAIN, signed)) };
  });
}

function rejection(p: Promise<unknown>): Promise<JouleError> {
  return p.then(
    () => {
      throw new Error('was not rejected');
    },
    (e: unknown) => {
      if (e instanceof JouleError) return e;
      throw e;
    },
  );
}

const good = fleetReadings(1000);
const bad = fleetReadings(1000, [617]);

describe('telemetry batch assembly', () => {
  it('aggregates 1,000 good readings with one check, and the chain verifies the aggregate', async () => {
    const v = new SameThreadVerifier();
    const sig = await aggregateVerifiedReadings(v, good, { chainId: CHAIN, keyOf });
    expect(v.counter.checks).toBe(1);
    expect(
      blsAggregateVerify(
        good.map((r) => readingSigningBytes(CHAIN, r)),
        good.map((r) => keyOf(r.deviceId)!),
        sig,
      ),
    ).toBe(true);
  });

  it('names the one bad signature among 1,000, found by bisection (about 2 log2(1,000) extra checks)', async () => {
    const v = new SameThreadVerifier();
    const e = await rejection(aggregateVerifiedReadings(v, bad, { chainId: CHAIN, keyOf }));
    expect(e).toMatchObject({ code: ErrorCode.TX_BAD_SIGNATURE, field: 'readings[617].signature' });
    expect(e.message).toContain('device "m-17" at 1700000000000617 µs');
    // The aggregate, then one multi-pairing of all 1,000, then the halving down to the bad one.
    expect(v.counter.checks).toBeGreaterThan(2);
    expect(v.counter.checks).toBeLessThanOrEqual(2 + 2 * Math.ceil(Math.log2(1000)));
  });

  it('counts every bad one, and names a malformed signature and an unknown device', async () => {
    const v = new SameThreadVerifier();
    const several = await rejection(aggregateVerifiedReadings(v, fleetReadings(200, [3, 150, 4]), { chainId: CHAIN, keyOf }));
    expect(several.field).toBe('readings[3].signature');
    expect(several.message).toContain('and 2 more: readings 4, 150');
    const malformed = [...good.slice(0, 10)];
    malformed[6] = { ...malformed[6]!, signature: new Uint8Array(96).fill(0xaa) };
    expect(await rejection(aggregateVerifiedReadings(v, malformed, { chainId: CHAIN, keyOf }))).toMatchObject({ field: 'readings[6].signature' });
    const stranger = [...good.slice(0, 10), { ...good[10]!, deviceId: 'm-99' }];
    expect(await rejection(aggregateVerifiedReadings(v, stranger, { chainId: CHAIN, keyOf }))).toMatchObject({
      code: ErrorCode.DEVICE_UNKNOWN,
      field: 'readings[10].deviceId',
    });
  });

  describe('through the worker pool', () => {
    const pool = new WorkerPoolVerifier({ workers: 2 });
    afterAll(() => pool.close());

    it('names the bad reading the same way', async () => {
      expect(await rejection(aggregateVerifiedReadings(pool, bad, { chainId: CHAIN, keyOf }))).toMatchObject({
        code: ErrorCode.TX_BAD_SIGNATURE,
        field: 'readings[617].signature',
      });
    });
  });
});
