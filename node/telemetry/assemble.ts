import { ErrorCode, JouleError } from '../../core/errors.ts';
import { blsAggregateSignatures, blsSignature } from '../../core/keys.ts';
import type { SignatureSet } from '../../core/signature-sets.ts';
import { readingSigningBytes, type Reading } from '../../core/telemetry.ts';
import type { VerificationService } from '../verify/service.ts';

/**
 * Assembling a telemetry batch (tx 20) from readings each signed by its device: the one
 * place the readings' own signatures still exist. On chain a batch carries only their
 * aggregate, and an aggregate that fails says nothing of which reading spoiled it (any
 * one of them could have). So the aggregator checks here, before sending: the aggregate
 * first (one aggregate-verify, all that a good batch costs), and only if it fails each
 * reading's own signature, as a single-message set through the verification service,
 * whose batch verifier bisects a failed multi-pairing (node/verify/batch.ts): one bad
 * signature among 1,000 costs about 2 log2(1,000) extra checks, and the error names it.
 * `joule telemetry submit` and `joule simulate devices` use this. The gRPC ingress checks
 * its batches as it builds them instead (node/ingress/batch-gate.ts), by their sum alone.
 */

export interface SignedReading extends Reading {
  /** The device's BLS signature (96 bytes) of core/telemetry.ts telemetrySigningBytes. */
  readonly signature: Uint8Array;
}

export interface AssembleOptions {
  readonly chainId: string;
  /** The key that signs `deviceId`'s readings (its key at the batch's keyHeight); undefined: unknown device. */
  readonly keyOf: (deviceId: string) => Uint8Array | undefined;
}

/** The indexes of the readings whose own signatures do not verify, ascending (bisection, node/verify/). */
export async function findBadReadings(service: VerificationService, readings: readonly SignedReading[], opts: AssembleOptions): Promise<number[]> {
  const sets: SignatureSet[] = readings.map((r, i) => ({
    kind: 'bls',
    publicKey: keyAt(opts, r, i),
    message: readingSigningBytes(opts.chainId, r),
    signature: r.signature,
  }));
  return service.findInvalid(sets, { priority: 'mempool', batchable: true });
}

function keyAt(opts: AssembleOptions, r: Reading, i: number): Uint8Array {
  const key = opts.keyOf(r.deviceId);
  if (key === undefined)
    throw new JouleError(ErrorCode.DEVICE_UNKNOWN, `no key is known for device ${JSON.stringify(r.deviceId)} (is it registered?)`, `readings[${i}].deviceId`);
  return key;
}

function describe(r: Reading): string {
  return `device ${JSON.stringify(r.deviceId)} at ${r.timestampUs} µs (${r.netEnergyWh} Wh)`;
}

/**
 * The aggregate signature of `readings` once every reading's own signature verifies;
 * otherwise TX_BAD_SIGNATURE naming the first bad reading (`readings[i].signature`), its
 * device and time, and how many are bad.
 */
export async function aggregateVerifiedReadings(service: VerificationService, readings: readonly SignedReading[], opts: AssembleOptions): Promise<Uint8Array> {
  if (readings.length === 0) throw new JouleError(ErrorCode.INVALID_PARAMS, 'a batch needs at least one reading', 'readings');
  // Malformed signatures cannot be aggregated; the bisection below reports them as bad.
  if (readings.every((r) => blsSignature(r.signature) !== undefined)) {
    const aggregate = blsAggregateSignatures(readings.map((r) => r.signature));
    const set: SignatureSet = {
      kind: 'bls-aggregate',
      publicKeys: readings.map((r, i) => keyAt(opts, r, i)),
      messages: readings.map((r) => readingSigningBytes(opts.chainId, r)),
      signature: aggregate,
    };
    if (await service.verify([set], { priority: 'mempool', batchable: true })) return aggregate;
  }
  const bad = await findBadReadings(service, readings, opts);
  const first = bad[0];
  if (first === undefined) {
    // Every reading verifies alone, yet not together: only a broken verifier does that.
    throw new JouleError(ErrorCode.TX_BAD_SIGNATURE, 'the aggregate does not verify though every reading does on its own', 'readings');
  }
  const more = bad.length > 1 ? ` (and ${bad.length - 1} more: readings ${bad.slice(1, 6).join(', ')}${bad.length > 6 ? ', …' : ''})` : '';
  throw new JouleError(
    ErrorCode.TX_BAD_SIGNATURE,
    `the signature of ${describe(readings[first]!)} does not verify under its device's key${more}`,
    `readings[${first}].signature`,
  );
}
