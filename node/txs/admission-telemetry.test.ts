import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitSealBytes } from '../../core/block.ts';
import { ErrorCode, isJouleError } from '../../core/errors.ts';
import { addressFromPublicKey, blsSign, type BlsKeyPair } from '../../core/keys.ts';
import { skippedDevices, type Reading } from '../../core/telemetry.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildDeviceStatus } from '../../core/tx/device-status.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import { encodeTx, type Tx } from '../../core/tx.ts';
import { bitmapFromIndexes } from '../../core/validators.ts';
import { generateDevnet, genesisHash } from '../../genesis/index.ts';
import { Mempool } from '../../mempool/index.ts';
import { getMeterCursor } from '../../state/telemetry.ts';
import { devicePop, registerBody, testDeviceKey } from '../../vm/testing/energy-chain.ts';
import { reading, signReadingBlst } from '../../vm/testing/telemetry.ts';
import { blsAggregateSignatures } from '../../core/keys.ts';
import { buildBlock } from '../blocks/block-builder.ts';
import { Chain } from '../chain/chain.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import type { VerificationService, VerifyPriority } from '../verify/service.ts';
import { VerifiedTxs } from '../verify/verified-txs.ts';
import { TxAdmission } from './admission.ts';
import type { AdmissionMetrics } from './metrics.ts';

/**
 * A telemetry batch enters the pool only if its sender operates every device it names, and
 * once pooled it is not dropped when a device changes: the block skips that device's
 * readings and counts the others' (vm/telemetry/batch.ts). Strict at the door about other
 * operators' devices, so nobody holds their places in the pool (its per-device bound) with
 * their public readings; lenient about the sender's own, so one device's change never
 * loses the other devices' readings.
 */

const T0 = 1_700_000_000_000;
const devnet = generateDevnet({ validators: 1, accounts: 1, genesisTime: T0, aggregators: true });
const { chainId } = devnet.genesis;
const validator = devnet.validatorKeys[0]!;
const aggregator = devnet.aggregatorKeys[0]!.keyPair;
/** An operator too (account-0 holds the devnet's operator roles). */
const otherOperator = devnet.accountKeys[0]!.keyPair;
const keys = new Map<string, BlsKeyPair>([
  ['d-1', testDeviceKey(1)],
  ['d-2', testDeviceKey(2)],
  ['x-1', testDeviceKey(3)],
]);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sender = (nonce: number) => ({ chainId, seed: aggregator.seed, nonce, fee: 1000n });

function batch(nonce: number, keyHeight: number, readings: Reading[]): Tx {
  const signature = blsAggregateSignatures(readings.map((r) => signReadingBlst(keys.get(r.deviceId)!, r, chainId)));
  return buildTelemetryBatch({ ...sender(nonce), keyHeight, readings, signature });
}

async function commit(chain: Chain, timestamp: number, candidates: Tx[]) {
  const built = await buildBlock({
    context: chain.nextBlockContext(),
    proposer: addressFromPublicKey(validator.identity.publicKey),
    round: 0,
    timestamp,
    candidates,
    signaturesVerified: true,
  });
  expect(built.dropped.map((d) => d.error.message)).toEqual([]);
  const height = built.block.header.height;
  const seal = blsSign(validator.consensus.secretKey, commitSealBytes(chainId, height, 0, built.hash));
  await chain.commit(built, { height, round: 0, blockHash: built.hash, aggregateSignature: seal, signers: bitmapFromIndexes(1, [0]) });
  return built.result.receipts;
}

/** A chain whose aggregator operates d-1 and d-2 (another operator x-1), and admission over it; every verification's priority recorded. */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'joule-admission-telemetry-'));
  // Records the priority each verification asks for.
  const priorities: VerifyPriority[] = [];
  const inner = new SameThreadVerifier();
  const service: VerificationService = {
    findInvalid: (sets, opts) => (priorities.push(opts.priority), inner.findInvalid(sets, opts)),
    findInvalidTogether: (sets, opts) => (priorities.push(opts.priority), inner.findInvalidTogether(sets, opts)),
    verify: (sets, opts) => (priorities.push(opts.priority), inner.verify(sets, opts)),
    close: () => inner.close(),
  };
  const chain = await Chain.open(dir, devnet.genesis, genesisHash(devnet.genesis), {
    signatures: { service, verifiedTxs: new VerifiedTxs(1000) },
  });
  cleanups.push(async () => {
    await chain.close();
    await rm(dir, { recursive: true, force: true });
  });
  const mempool = new Mempool({ maxTxs: 100, maxBytes: 1 << 20, maxPerSender: 50, maxNonceGap: 50, replaceBumpPercent: 10 });
  const rejected = new Map<string, number>();
  const metrics: AdmissionMetrics = {
    rejected: (code) => void rejected.set(code, (rejected.get(code) ?? 0) + 1),
    poolSize() {},
    tierSize() {},
    waiting() {},
  };
  const clock = { now: T0 + 1500 };
  const admission = new TxAdmission(chain, mempool, metrics, { clock: () => clock.now });
  const owner = addressFromPublicKey(aggregator.publicKey);

  const register = (id: string, nonce: number, by = aggregator) =>
    buildDeviceRegister({
      chainId,
      seed: by.seed,
      nonce,
      fee: 1000n,
      device: registerBody(id, keys.get(id)!, owner, { proofOfPossession: devicePop(keys.get(id)!, chainId) }),
    });
  await commit(chain, T0 + 1000, [register('d-1', 0), register('d-2', 1), register('x-1', 0, otherOperator)]);
  return { chain, mempool, admission, rejected, priorities, clock };
}

describe('admission of telemetry batches', () => {
  it("refuses a batch naming another operator's device, keeps a pooled one whose device changed, and its block counts the rest", async () => {
    const { chain, mempool, admission, rejected, priorities, clock } = await setup();
    // Pooled while both devices are active (nonce 3: the suspension below takes 2).
    const pooled = batch(3, 2, [reading('d-1', T0 + 1400, -1), reading('d-2', T0 + 1450, -1)]);
    await admission.submit(pooled.bytes, 'rpc');
    expect(mempool.has(pooled.hash)).toBe(true);
    // A batch waits behind other txs' admission, ahead of the ingress's readings (node/verify/service.ts).
    expect(priorities).toEqual(['telemetry']);

    // d-2 is suspended; re-validation keeps the pooled batch (its block will skip d-2).
    await commit(chain, T0 + 2000, [buildDeviceStatus({ ...sender(2), id: 'd-2', action: 'suspend' })]);
    expect(admission.revalidate()).toBe(0);
    expect(mempool.has(pooled.hash)).toBe(true);

    // A new batch naming another operator's device (its readings are public) does not enter the pool.
    clock.now = T0 + 2500;
    const foreign = batch(4, 3, [reading('d-1', T0 + 2400, -1), reading('x-1', T0 + 2450, -1)]);
    const error = await admission.submit(foreign.bytes, 'rpc').then(
      () => undefined,
      (e: unknown) => (isJouleError(e) ? e : undefined),
    );
    expect(error).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.body.readings[1].deviceId' });
    expect(rejected.get(ErrorCode.TX_UNAUTHORIZED)).toBe(1);
    expect(mempool.has(foreign.hash)).toBe(false);
    // One naming the sender's own suspended device enters: its block skips that device.
    const own = batch(4, 3, [reading('d-1', T0 + 2400, -1), reading('d-2', T0 + 2450, -1)]);
    await admission.submit(own.bytes, 'rpc');
    expect(mempool.has(own.hash)).toBe(true);

    const [receipt, second] = await commit(chain, T0 + 3000, [pooled, own]);
    expect(receipt).toMatchObject({ success: true });
    expect(skippedDevices(receipt!.events)).toEqual(new Map([['d-2', ErrorCode.DEVICE_INACTIVE]]));
    expect(skippedDevices(second!.events)).toEqual(new Map([['d-2', ErrorCode.DEVICE_INACTIVE]]));
    expect(getMeterCursor(chain.world, 'd-1')?.lastTimestampUs).toBe(BigInt(T0 + 2400) * 1000n);
    expect(getMeterCursor(chain.world, 'd-2')).toBeUndefined();
  });

  it("a batch in a funded aggregator's name that its sender did not sign is refused on the sender's signature alone: its readings' aggregate (a pairing each) is never checked", async () => {
    const { admission, mempool, rejected, priorities } = await setup();
    const genuine = batch(2, 2, [reading('d-1', T0 + 1400, -1), reading('d-2', T0 + 1450, -1)]);
    const signature = Uint8Array.from(genuine.signature);
    signature[0]! ^= 1;
    const forged = encodeTx({ ...genuine, signature });
    const error = await admission.submit(forged, 'rpc').then(
      () => undefined,
      (e: unknown) => (isJouleError(e) ? e : undefined),
    );
    expect(error).toMatchObject({ code: ErrorCode.TX_BAD_SIGNATURE });
    expect(rejected.get(ErrorCode.TX_BAD_SIGNATURE)).toBe(1);
    expect(priorities).toEqual([]);
    // The genuine one is checked whole, its aggregate included, and enters.
    await admission.submit(genuine.bytes, 'rpc');
    expect([mempool.has(genuine.hash), priorities]).toEqual([true, ['telemetry']]);
  });
});
