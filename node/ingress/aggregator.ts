import * as blst from '@chainsafe/blst';
import { toHex } from '../../core/bytes.ts';
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import type { Tx } from '../../core/tx.ts';
import type { SignedReading } from '../../rpc/grpc/device-ingress.ts';
import type { ReadingAck } from '../../rpc/node-api.ts';

/**
 * The node's aggregator: verified readings -> telemetry-batch txs (tx 20), each under ONE
 * aggregate BLS signature (the sum of its readings' signatures, all verified already by
 * node/ingress/reading-verifier.ts), sent from the node's aggregator account and submitted
 * to its own mempool (and gossiped). A batch goes out when it holds `maxReadings` readings
 * or its first reading has waited `maxDelayMs`, whichever comes first; a batch whose tx
 * would exceed the chain's maxTxBytes is halved.
 *
 * Nonces are numbered locally from the pool's next nonce; up to `maxInFlight` batches are
 * in admission at once (admission keeps one sender's txs in submission order). A refused
 * batch is reported (acks 'failed') and the numbering restarts from the pool's next nonce
 * once the batches in flight have settled. At most `maxBuffered` readings wait for a
 * batch: `room()` says how many more fit, and the ingress refuses readings beyond.
 */

export interface AggregatorDeps {
  readonly chainId: string;
  /** The aggregator account's Ed25519 seed and address. */
  readonly seed: Uint8Array;
  readonly address: Uint8Array;
  /** The height whose device keys signed (the next block's): tx 20's keyHeight. */
  readonly keyHeight: () => number;
  readonly maxTxBytes: () => number;
  /** The account's next nonce counting its pending txs (Mempool.nextNonce over the state's nonce). */
  readonly poolNonce: () => number;
  /** Admits the tx to the mempool (and gossips it); rejects with the typed rejection. */
  readonly submit: (tx: Tx) => Promise<void>;
  readonly acks: (acks: readonly ReadingAck[]) => void;
  readonly onError?: (e: unknown, readings: number) => void;
}

export interface AggregatorLimits {
  readonly maxReadings: number;
  readonly maxDelayMs: number;
  readonly maxBuffered: number;
  readonly maxInFlight: number;
  readonly fee: bigint;
}

export const DEFAULT_AGGREGATOR_LIMITS: AggregatorLimits = { maxReadings: 1000, maxDelayMs: 250, maxBuffered: 50_000, maxInFlight: 4, fee: 1000n };

/** Batches sent and not yet final, remembered for their 'final' acknowledgements (oldest forgotten first). */
const MAX_TRACKED_BATCHES = 1024;

export class Aggregator {
  private readonly deps: AggregatorDeps;
  private readonly limits: AggregatorLimits;
  private buffer: SignedReading[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private nonce: number | undefined;
  private resync = false;
  private readonly sent = new Map<string, { deviceId: string; timestampUs: bigint }[]>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  /** Readings in batches admitted to the mempool, and refused (figures for the log and tests). */
  batched = 0;
  failed = 0;

  constructor(deps: AggregatorDeps, limits: Partial<AggregatorLimits> = {}) {
    this.deps = deps;
    this.limits = { ...DEFAULT_AGGREGATOR_LIMITS, ...limits };
  }

  /** How many more readings may be added now. */
  room(): number {
    return Math.max(0, this.limits.maxBuffered - this.buffer.length);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  add(readings: readonly SignedReading[]): void {
    if (this.stopped || readings.length === 0) return;
    for (const r of readings) this.buffer.push(r);
    if (this.buffer.length >= this.limits.maxReadings) this.pump();
    else this.timer ??= setTimeout(() => this.flushTimer(), this.limits.maxDelayMs);
  }

  /** The tx `hash` of ours is in a final block (node event 'tx-included'): its readings' final acks. */
  included(hash: Uint8Array, height: number, code: string | undefined): void {
    const key = toHex(hash);
    const readings = this.sent.get(key);
    if (readings === undefined) return;
    this.sent.delete(key);
    this.deps.acks(
      readings.map((r) => ({ ...r, outcome: 'final', txHash: hash, height, ...(code === undefined ? {} : { reason: code }) }) satisfies ReadingAck),
    );
  }

  private flushTimer(): void {
    this.timer = undefined;
    this.pump(true);
  }

  /** Sends full batches (and, on `partial`, the rest) while fewer than maxInFlight are in admission. */
  private pump(partial = false): void {
    while (!this.stopped && this.inFlight < this.limits.maxInFlight && this.buffer.length > 0) {
      if (this.buffer.length < this.limits.maxReadings && !partial) break;
      if (this.resync && this.inFlight > 0) break;
      this.sendOne();
    }
    if (this.buffer.length > 0 && this.timer === undefined && !this.stopped) this.timer = setTimeout(() => this.flushTimer(), this.limits.maxDelayMs);
  }

  private sendOne(): void {
    if (this.resync || this.nonce === undefined) {
      this.nonce = this.deps.poolNonce();
      this.resync = false;
    }
    let take = Math.min(this.limits.maxReadings, this.buffer.length);
    let tx: Tx | undefined;
    for (;;) {
      try {
        tx = this.build(this.buffer.slice(0, take), this.nonce);
      } catch (e) {
        this.fail(this.buffer.splice(0, take), e);
        return;
      }
      if (tx.bytes.length <= this.deps.maxTxBytes() || take === 1) break;
      take = Math.ceil(take / 2);
    }
    const readings = this.buffer.splice(0, take);
    this.nonce++;
    this.inFlight++;
    const key = toHex(tx.hash);
    const ids = readings.map((r) => ({ deviceId: r.deviceId, timestampUs: r.timestampUs }));
    this.sent.set(key, ids);
    if (this.sent.size > MAX_TRACKED_BATCHES) this.sent.delete(this.sent.keys().next().value!);
    const hash = tx.hash;
    this.deps.submit(tx).then(
      () => {
        this.batched += readings.length;
        this.deps.acks(ids.map((r) => ({ ...r, outcome: 'batched', txHash: hash })));
        this.settled();
      },
      (e: unknown) => {
        this.sent.delete(key);
        this.resync = true;
        this.fail(readings, e);
        this.settled();
      },
    );
  }

  private build(readings: readonly SignedReading[], nonce: number): Tx {
    // Every signature was verified (and so validated) by the worker: decompress, add, no second subgroup check.
    const signature = blst
      .aggregateSignatures(
        readings.map((r) => blst.Signature.fromBytes(r.signature, false)),
        false,
      )
      .toBytes(true);
    return buildTelemetryBatch({
      chainId: this.deps.chainId,
      seed: this.deps.seed,
      nonce,
      fee: this.limits.fee,
      keyHeight: this.deps.keyHeight(),
      readings: readings.map(({ deviceId, timestampUs, netEnergyWh, stateOfChargePercent }) => ({ deviceId, timestampUs, netEnergyWh, stateOfChargePercent })),
      signature,
    });
  }

  private fail(readings: readonly SignedReading[], e: unknown): void {
    this.failed += readings.length;
    this.deps.onError?.(e, readings.length);
    const reason = isJouleError(e) ? e.code : ErrorCode.UNAVAILABLE;
    this.deps.acks(readings.map((r) => ({ deviceId: r.deviceId, timestampUs: r.timestampUs, outcome: 'rejected', reason })));
  }

  private settled(): void {
    this.inFlight--;
    this.pump(this.timer === undefined);
    if (this.inFlight === 0 && (this.buffer.length === 0 || this.stopped)) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Sends what is buffered now and resolves when no batch is in admission (tests, shutdown). */
  async drain(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pump(true);
    if (this.inFlight === 0 && this.buffer.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops batching; readings still buffered are reported failed (UNAVAILABLE). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const rest = this.buffer.splice(0);
    if (rest.length > 0)
      this.fail(rest, new JouleError(ErrorCode.UNAVAILABLE, 'the node is stopping: readings not yet batched are lost; the device sends them again'));
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
