import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.ts';
import { addressFromPublicKey, blsGenerate, blsSign, ed25519Generate } from '../../core/keys.ts';
import { DEVNET_PARAMS } from '../../core/params.ts';
import { readingSigningBytes } from '../../core/telemetry.ts';
import type { SignedReading } from '../../rpc/grpc/device-ingress.ts';
import { readingAllowance } from '../../vm/telemetry/allowance.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import type { Aggregator, VerifiedReading } from './aggregator.ts';
import { DeviceIngress } from './ingress.ts';
import { ReadingVerifier } from './reading-verifier.ts';
import { testDeviceRecord } from './testing/device-record.ts';

/**
 * The ingress's checks against what the chain will judge when the readings' batch is
 * executed: a reading the ingress accepts must never make its batch fail (nor flag its
 * device), whichever of the batches before it reach the chain.
 */

const CHAIN = 'joule-test';
const p = DEVNET_PARAMS;
const verifiers: ReadingVerifier[] = [];
afterEach(() => {
  for (const v of verifiers.splice(0)) v.close();
});

function setup() {
  const aggregator = addressFromPublicKey(ed25519Generate().publicKey);
  const key = blsGenerate();
  const device = testDeviceRecord('pv', key.publicKey, aggregator);
  // An interval's first ms plus a second: its readings are far from settling.
  let now = 1_800_000_000_000 - (1_800_000_000_000 % p.settlementIntervalMs) + 1000;
  const batched: VerifiedReading[] = [];
  const batcher = { room: () => 1000, add: (r: readonly VerifiedReading[]) => batched.push(...r) } as unknown as Aggregator;
  const verifier = new ReadingVerifier({ chainId: CHAIN, service: new SameThreadVerifier() });
  verifiers.push(verifier);
  const ingress = new DeviceIngress({
    chainId: CHAIN,
    aggregator,
    device: () => device,
    // No reading of the device on chain: its first batch is still pending, or was lost.
    chainCursor: () => undefined,
    keyHeight: () => 2,
    params: () => p,
    verifier,
    batcher,
    acks: () => {},
    clock: () => now,
  });
  const session = ingress.open('pv', { connection: 'test' }, () => {});
  const signed = (atMs: number, wh: bigint): SignedReading => {
    const r = { deviceId: 'pv', timestampUs: BigInt(atMs) * 1000n, netEnergyWh: wh, stateOfChargePercent: 0 };
    return { ...r, signature: blsSign(key.secretKey, readingSigningBytes(CHAIN, r)) };
  };
  return { device, session, batched, signed, now: () => now, advance: (ms: number) => (now += ms) };
}

describe('DeviceIngress', () => {
  it("while none of a device's readings is on chain, each must pass as its first there: its earlier ones' batch may be lost", async () => {
    const s = setup();
    expect(await s.session.submit([s.signed(s.now(), -1n)])).toEqual([{ ok: true }]);
    // A minute later, 150 Wh: possible after the accepted reading (10 kW for 60 s is 166 Wh),
    // not as the device's first on chain (10 kW for one 30 s interval, 83 Wh, and the 1 Wh carry).
    s.advance(60_000);
    const later = s.signed(s.now(), -150n);
    expect(readingAllowance(undefined, later, s.device, p.settlementIntervalMs).possible).toBe(false);
    const [v] = await s.session.submit([later]);
    expect(v).toMatchObject({ ok: false, code: ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY });
    // What the chain would take as a first reading is accepted.
    expect(await s.session.submit([s.signed(s.now() + 1, -80n)])).toEqual([{ ok: true }]);
    expect(s.batched.map((r) => r.netEnergyWh)).toEqual([-1n, -80n]);
  });
});
