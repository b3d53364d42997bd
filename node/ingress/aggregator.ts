import { equalBytes, toHex } from '../../core/bytes.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import type { EnergyParams } from '../../core/params.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import type { Tx } from '../../core/tx.ts';
import type { ReadingVerdict, SignedReading } from '../../rpc/grpc/device-ingress.ts';
import type { ReadingAck } from '../../rpc/node-api.ts';
import type { BatchGate, KeyedReading } from './batch-gate.ts';
import { type BatchMoment, droppedVerdict, sortOut } from './batchable.ts';

/**
 * The node's aggregator: readings -> telemetry-batch txs (tx 20), each under ONE aggregate
 * BLS signature (the sum of its readings' signatures), sent from the node's aggregator
 * account and submitted to its own mempool (and gossiped). A batch goes out when it holds
 * `maxReadings` readings or its first reading has waited `maxDelayMs`, whichever comes
 * first; a batch whose tx would exceed the chain's maxTxBytes is halved.
 *
 * The readings wait here unchecked. A batch's readings are chosen first, then checked as
 * they are, by node/ingress/batch-gate.ts: their signatures together (the check the
 * validators will make of the batch), then each device's order; what passes is the batch.
 * `add` answers each reading's verdict then. Up to MAX_CHECKS batches are in the check at once.
 *
 * Nonces: up to `maxInFlight` batches are in admission at once (admission keeps one
 * sender's txs in submission order). Each batch takes the lowest nonce at or after the
 * pool's next one that no batch of ours in flight or pending holds. So a batch refused at
 * admission, or dropped from the pool later (re-validation: a reading grown too old; gap
 * expiry), leaves a hole the next batch fills at once, instead of every later batch
 * waiting behind a gap until it too grows stale (what stalled finality at rate). A batch
 * filling a hole below pending batches of ours leaves out the devices those batches hold
 * (they stay buffered for the next one): executed first, it would otherwise make their
 * older readings out of order, and those batches fail. It also pays 10 % more fee than the
 * batch it replaces (and 1), so a peer that still holds that one (its re-validation runs at
 * its own time) takes the new one as a replacement instead of refusing it as underpriced.
 *
 * A batch is refused whole for a reading too old or in a settled interval, and a device
 * the chain would not count is skipped when the batch is executed (vm/telemetry/batch.ts;
 * the final ack then carries the reason). So when a batch is built, the readings that
 * could no longer be included or counted are dropped one by one (acknowledged with the
 * reason; the rules are node/ingress/batchable.ts) instead: older than 3/4 of maxReadingSkewMs (TELEMETRY_SKEW), or in an
 * interval that settles within the last quarter of it (TELEMETRY_SETTLED; that quarter
 * is left for admission and inclusion); of a device that since became inactive
 * (suspended, revoked, flagged: DEVICE_INACTIVE) or another operator's (DEVICE_NOT_SERVED).
 * Every reading carries the key it must verify under; one whose device key at the
 * batch's keyHeight, or at the height after (a re-key in the head's block), is another is
 * dropped (TELEMETRY_KEY_ROTATED), so a built batch's aggregate verifies by construction
 * (its sets are the very ones the gate checked together) and is submitted as verified
 * (`submit(tx, verified: true)`). A batch refused at admission and sent again without some
 * of its readings is checked again first (BatchGate.keepTogether).
 *
 * At most `maxBuffered` readings wait for a batch: `room()` says how many more fit, and
 * the ingress refuses readings beyond.
 */

/** A reading waiting for its batch, and where its verdict goes. */
interface Candidate extends KeyedReading {
  readonly settle: (v: ReadingVerdict) => void;
}

const isCandidate = (r: KeyedReading): r is Candidate => 'settle' in r;

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
  /** Whether a pooled tx of the account has this nonce (Mempool.hasNonce): past the run, ours or another's. */
  readonly poolHolds: (nonce: number) => boolean;
  /** Whether the tx is still in the mempool. */
  readonly pending: (hash: Uint8Array) => boolean;
  /** The device's record in the latest state. */
  readonly device: (deviceId: string) => DeviceRecord | undefined;
  /** The chain's parameters: the reading time rules a batch is checked by. */
  readonly params: () => Pick<EnergyParams, 'maxReadingSkewMs' | 'settlementIntervalMs' | 'settlementDelayMs'>;
  /** Admits the tx to the mempool (and gossips it); rejects with the typed rejection. `verified`: its signatures hold by construction. */
  readonly submit: (tx: Tx, verified: boolean) => Promise<void>;
  /** Wall clock, ms. */
  readonly clock?: () => number;
  readonly acks: (acks: readonly ReadingAck[]) => void;
  /** Checks a batch's readings as it is built (signatures, then order). */
  readonly gate: Pick<BatchGate, 'check' | 'keepTogether'>;
  readonly onError?: (e: unknown, readings: number) => void;
  /** Readings dropped before batching (TELEMETRY_SKEW: too old; TELEMETRY_SETTLED; TELEMETRY_KEY_ROTATED; DEVICE_INACTIVE, DEVICE_NOT_SERVED, DEVICE_UNKNOWN). */
  readonly onDropped?: (code: ErrorCode, readings: number) => void;
}

export interface AggregatorLimits {
  readonly maxReadings: number;
  readonly maxDelayMs: number;
  readonly maxBuffered: number;
  readonly maxInFlight: number;
  readonly fee: bigint;
}

export const DEFAULT_AGGREGATOR_LIMITS: AggregatorLimits = { maxReadings: 1000, maxDelayMs: 250, maxBuffered: 50_000, maxInFlight: 4, fee: 1000n };

const STOPPING: { readonly ok: false; readonly code: ErrorCode; readonly message: string } = {
  ok: false,
  code: ErrorCode.UNAVAILABLE,
  message: 'the node is stopping: readings not yet batched are lost; the device sends them again',
};

/** The size of a batch does not depend on its signature's value: a placeholder while its readings are chosen. */
const UNSIGNED = new Uint8Array(96);

/** The gate's sum of a batch's readings, which it answers whenever it accepts some. */
function signed(signature: Uint8Array | undefined): Uint8Array {
  if (signature === undefined) throw new JouleError(ErrorCode.UNAVAILABLE, 'the gate accepted readings but answered no sum of their signatures', 'signature');
  return signature;
}

/** Batches in the gate's check at once: enough that one's wait for a worker does not hold the next back. */
const MAX_CHECKS = 3;

/** Batches sent and not yet final, remembered for their 'final' acknowledgements (oldest forgotten first). */
const MAX_TRACKED_BATCHES = 1024;

/** A batch of ours at its nonce: `hash` once admitted, `submitted` (its hash) from its submission on. */
interface Slot {
  hash: Uint8Array | undefined;
  submitted?: Uint8Array;
  readonly devices: ReadonlySet<string>;
}

export class Aggregator {
  private readonly deps: AggregatorDeps;
  private readonly limits: AggregatorLimits;
  private readonly clock: () => number;
  private buffer: Candidate[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Batches in the gate's check or in admission. */
  private inFlight = 0;
  /** Readings of the batches in the gate's check. */
  private checking = 0;
  /** Batches in the gate's check (their signatures are checked side by side). */
  private checks = 0;
  /** The batch delay ran out while MAX_CHECKS batches were in the check: the next goes out partial once one is done. */
  private due = false;
  /**
   * Our batches by nonce, from their check until they are seen to leave the pool (a slot
   * whose batch left is forgotten at the next nonce chosen).
   */
  private readonly outstanding = new Map<number, Slot>();
  private readonly sent = new Map<string, { deviceId: string; timestampUs: bigint }[]>();
  /** The fee last paid at each nonce not yet spent (a refill outbids it). */
  private readonly fees = new Map<number, bigint>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  /** Readings in batches admitted to the mempool, refused, and dropped before batching as too old (figures for the log and tests). */
  batched = 0;
  failed = 0;
  stale = 0;
  /** Batches that filled a hole a batch of ours left (refused, or dropped from the pool). */
  refills = 0;

  constructor(deps: AggregatorDeps, limits: Partial<AggregatorLimits> = {}) {
    this.deps = deps;
    this.limits = { ...DEFAULT_AGGREGATOR_LIMITS, ...limits };
    this.clock = deps.clock ?? Date.now;
  }

  /** How many more readings may be added now. */
  room(): number {
    return Math.max(0, this.limits.maxBuffered - this.buffer.length - this.checking);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Readings for a batch; each one's verdict comes once its batch is checked (or it is dropped first). */
  add(readings: readonly KeyedReading[]): Promise<ReadingVerdict[]> {
    if (readings.length === 0) return Promise.resolve([]);
    if (this.stopped) return Promise.resolve(readings.map(() => STOPPING));
    return new Promise((resolve) => {
      const verdicts: ReadingVerdict[] = new Array(readings.length);
      let waiting = readings.length;
      readings.forEach((r, i) => {
        this.buffer.push({
          ...r,
          settle: (v) => {
            verdicts[i] = v;
            if (--waiting === 0) resolve(verdicts);
          },
        });
      });
      if (this.buffer.length >= this.limits.maxReadings) this.pump();
      else this.timer ??= setTimeout(() => this.flushTimer(), this.limits.maxDelayMs);
    });
  }

  /**
   * The tx `hash` of ours is in a final block (node event 'tx-included'): its readings' final
   * acks, each with a reason if it did not count: the batch's failure `code`, or the reason
   * its device was skipped (`skipped`, from the receipt: core/telemetry.ts skippedDevices).
   */
  included(hash: Uint8Array, height: number, code: string | undefined, skipped: ReadonlyMap<string, string> = new Map()): void {
    const key = toHex(hash);
    const readings = this.sent.get(key);
    if (readings === undefined) return;
    this.sent.delete(key);
    this.deps.acks(
      readings.map((r) => {
        const reason = code ?? skipped.get(r.deviceId);
        return { ...r, outcome: 'final', txHash: hash, height, ...(reason === undefined ? {} : { reason }) } satisfies ReadingAck;
      }),
    );
  }

  private flushTimer(): void {
    this.timer = undefined;
    this.pump(true);
  }

  /** Starts a full batch (and, on `partial`, the rest) when fewer than MAX_CHECKS are in the check and fewer than maxInFlight in flight. */
  private pump(partial = false): void {
    while (!this.stopped && this.inFlight < this.limits.maxInFlight && this.buffer.length > 0) {
      if (this.buffer.length < this.limits.maxReadings && !partial && !this.due) break;
      if (this.checks >= MAX_CHECKS) {
        // The batch delay ran out: the next batch goes out, partial, once a check is done.
        if (partial) this.due = true;
        break;
      }
      if (!this.sendOne()) break;
    }
    if (this.buffer.length > 0 && this.timer === undefined && !this.stopped) this.timer = setTimeout(() => this.flushTimer(), this.limits.maxDelayMs);
  }

  /**
   * The lowest nonce at or after the pool's next one that no batch of ours holds (forgetting
   * the batches that left the pool, included or dropped), and the devices of our batches
   * above it (pending behind the hole it fills).
   */
  private nextNonce(): { nonce: number; later: Set<string> } {
    const base = this.deps.poolNonce();
    // Batches below `base` are still tracked while pending: dropped later, their devices matter to the refill.
    for (const [n, o] of this.outstanding) if (!this.holds(o)) this.outstanding.delete(n);
    let nonce = base;
    // Past the run, a pooled tx not ours (the account's grid command, sent from the CLI) keeps its nonce.
    while (this.outstanding.has(nonce) || this.deps.poolHolds(nonce)) nonce++;
    const later = new Set<string>();
    for (const [n, o] of this.outstanding) if (n > nonce) for (const d of o.devices) later.add(d);
    return { nonce, later };
  }

  /** The aggregator's account (OwnNonces: admission keeps its nonces for its batches). */
  get address(): Uint8Array {
    return this.deps.address;
  }

  /** Whether `tx`, of our account but not a batch of ours, takes a nonce a batch of ours holds (OwnNonces). */
  takes(tx: Tx): boolean {
    if (!equalBytes(tx.from, this.deps.address)) return false;
    const slot = this.outstanding.get(tx.nonce);
    if (slot === undefined || !this.holds(slot)) return false;
    return slot.submitted === undefined || !equalBytes(slot.submitted, tx.hash);
  }

  /** Past every nonce a batch of ours holds, 0 when none does (OwnNonces). */
  get after(): number {
    let after = 0;
    for (const [n, o] of this.outstanding) if (n >= after && this.holds(o)) after = n + 1;
    return after;
  }

  /** Whether a batch's slot still holds its nonce: the batch is in its check or admission, or still pooled (it has not been included or dropped). */
  private holds(slot: Slot): boolean {
    return slot.hash === undefined || this.deps.pending(slot.hash);
  }

  /** A batch built now, at keys of `keyHeight`. */
  private moment(keyHeight: number): BatchMoment {
    return { keyHeight, nowMs: this.clock(), params: this.deps.params(), device: this.deps.device, aggregator: this.deps.address };
  }

  /** The buffered readings a batch built now could not include: dropped one by one, acknowledged with the reason. */
  private weed(keyHeight: number): void {
    const { keep, dropped } = sortOut(this.buffer, this.moment(keyHeight));
    if (dropped.size === 0) return;
    this.buffer = keep;
    this.dropAll(dropped);
  }

  private dropAll(dropped: ReadonlyMap<ErrorCode, readonly KeyedReading[]>): void {
    this.stale += dropped.get(ErrorCode.TELEMETRY_SKEW)?.length ?? 0;
    for (const [reason, readings] of dropped) this.drop(readings, reason);
  }

  /** Readings a batch could no longer include: a waiting one gets its verdict, an accepted one a 'rejected' ack. */
  private drop(readings: readonly KeyedReading[], reason: ErrorCode): void {
    this.deps.onDropped?.(reason, readings.length);
    const verdict = droppedVerdict(reason);
    const acks: ReadingAck[] = [];
    for (const r of readings) {
      if (isCandidate(r)) r.settle(verdict);
      else acks.push({ deviceId: r.deviceId, timestampUs: r.timestampUs, outcome: 'rejected', reason });
    }
    if (acks.length > 0) this.deps.acks(acks);
  }

  /** Chooses one batch's readings and starts its check (it is built and submitted once checked); false when none could be chosen now. */
  private sendOne(): boolean {
    const keyHeight = this.deps.keyHeight();
    this.weed(keyHeight);
    const { nonce, later } = this.nextNonce();
    // A hole below pending batches of ours: their devices wait for a batch after them.
    let pool = this.buffer;
    const held: Candidate[] = [];
    if (later.size > 0) {
      pool = [];
      for (const r of this.buffer) (later.has(r.deviceId) ? held : pool).push(r);
      if (pool.length > 0) this.refills++;
    }
    // Weeding may have dropped every reading, or every one left waits behind a batch of ours.
    if (pool.length === 0) return false;
    const before = this.fees.get(nonce);
    const fee = before === undefined ? this.limits.fee : (before * 11n) / 10n + 1n;
    // The size does not depend on the signature's value: a batch of these readings, signed by none yet.
    let take = Math.min(this.limits.maxReadings, pool.length);
    while (take > 1 && this.build(pool.slice(0, take), nonce, keyHeight, fee, UNSIGNED).bytes.length > this.deps.maxTxBytes()) take = Math.ceil(take / 2);
    const chosen = pool.splice(0, take);
    this.buffer = held.length === 0 ? pool : [...pool, ...held];
    if (pool.length === 0 && held.length === 0) this.due = false;
    // The nonce is ours from now: no other batch takes it while this one is checked.
    this.outstanding.set(nonce, { hash: undefined, devices: new Set(chosen.map((r) => r.deviceId)) });
    this.inFlight++;
    this.checking += chosen.length;
    this.checks++;
    this.deps.gate.check(chosen).then(
      ({ verdicts, signature }) => this.checked(chosen, verdicts, signature, nonce, keyHeight, fee),
      (e: unknown) => {
        const verdict: ReadingVerdict = isJouleError(e) ? { ok: false, code: e.code, message: e.message } : STOPPING;
        this.checked(
          chosen,
          chosen.map(() => verdict),
          undefined,
          nonce,
          keyHeight,
          fee,
        );
      },
    );
    return true;
  }

  /** The gate's verdicts on a chosen batch: the readings that passed are built into it, signed by `signature` (their sum), and submitted. */
  private checked(
    chosen: readonly Candidate[],
    verdicts: readonly ReadingVerdict[],
    signature: Uint8Array | undefined,
    nonce: number,
    keyHeight: number,
    fee: bigint,
  ): void {
    this.checking -= chosen.length;
    this.checks--;
    const accepted: KeyedReading[] = [];
    chosen.forEach((c, i) => {
      const v = verdicts[i]!;
      c.settle(v);
      if (v.ok) {
        const { settle: _, ...r } = c;
        accepted.push(r);
      }
    });
    if (accepted.length === 0 || this.stopped) {
      this.outstanding.delete(nonce);
      if (accepted.length > 0) this.fail(accepted, new JouleError(ErrorCode.UNAVAILABLE, STOPPING.message));
      this.settled();
      return;
    }
    let tx: Tx;
    try {
      tx = this.build(accepted, nonce, keyHeight, fee, signed(signature));
    } catch (e) {
      this.outstanding.delete(nonce);
      this.fail(accepted, e);
      this.settled();
      return;
    }
    this.fees.set(nonce, fee);
    if (this.fees.size > MAX_TRACKED_BATCHES) this.fees.delete(this.fees.keys().next().value!);
    this.submitBatch(tx, accepted, nonce, fee);
    this.pump(this.due);
  }

  /**
   * Submits a built batch at `nonce`. Admission judges it against the head when its turn
   * comes (it waits while a block is built and stored), which may have moved since the
   * build: a device handed to another operator refuses the batch whole. So on a refusal
   * the batch's readings are weeded again against the head now, and if that drops any, the
   * rest go again at the same nonce (each round drops one reading at least: it ends).
   */
  private submitBatch(tx: Tx, readings: readonly KeyedReading[], nonce: number, fee: bigint): void {
    const slot = { hash: undefined as Uint8Array | undefined, submitted: tx.hash, devices: new Set(readings.map((r) => r.deviceId)) };
    this.outstanding.set(nonce, slot);
    const key = toHex(tx.hash);
    const ids = readings.map((r) => ({ deviceId: r.deviceId, timestampUs: r.timestampUs }));
    this.sent.set(key, ids);
    if (this.sent.size > MAX_TRACKED_BATCHES) this.sent.delete(this.sent.keys().next().value!);
    const hash = tx.hash;
    this.deps.submit(tx, true).then(
      () => {
        if (this.outstanding.get(nonce) === slot) slot.hash = hash;
        this.batched += readings.length;
        this.deps.acks(ids.map((r) => ({ ...r, outcome: 'batched', txHash: hash })));
        this.settled();
      },
      (e: unknown) => {
        this.sent.delete(key);
        let unsent = readings;
        if (!this.stopped && this.outstanding.get(nonce) === slot) {
          const keyHeight = this.deps.keyHeight();
          const { keep, dropped } = sortOut(readings, this.moment(keyHeight));
          if (dropped.size > 0) {
            this.dropAll(dropped);
            if (keep.length > 0) return this.resubmit(keep, [...dropped.values()].flat(), slot, nonce, keyHeight, fee);
            unsent = keep;
          }
        }
        if (this.outstanding.get(nonce) === slot) this.outstanding.delete(nonce);
        if (unsent.length > 0) this.fail(unsent, e);
        this.settled();
      },
    );
  }

  /**
   * A refused batch again at its nonce without `removed`: the rest verified together with
   * them, so the gate says which must go too for the rest to verify without them.
   */
  private resubmit(keep: readonly KeyedReading[], removed: readonly KeyedReading[], slot: object, nonce: number, keyHeight: number, fee: bigint): void {
    const release = (readings: readonly KeyedReading[], e: unknown) => {
      if (this.outstanding.get(nonce) === slot) this.outstanding.delete(nonce);
      if (readings.length > 0) this.fail(readings, e);
      this.settled();
    };
    this.deps.gate.keepTogether(keep, removed).then(
      ({ drop: bad, signature }) => {
        const out = new Set(bad);
        const rest = keep.filter((_, i) => !out.has(i));
        if (out.size > 0)
          this.drop(
            bad.map((i) => keep[i]!),
            ErrorCode.TX_BAD_SIGNATURE,
          );
        if (this.stopped || this.outstanding.get(nonce) !== slot || rest.length === 0)
          return release(rest, new JouleError(ErrorCode.UNAVAILABLE, 'the batch could not be sent again'));
        let tx: Tx;
        try {
          tx = this.build(rest, nonce, keyHeight, fee, signed(signature));
        } catch (e) {
          return release(rest, e);
        }
        this.submitBatch(tx, rest, nonce, fee);
      },
      (e: unknown) => release(keep, e),
    );
  }

  private build(readings: readonly KeyedReading[], nonce: number, keyHeight: number, fee: bigint, signature: Uint8Array): Tx {
    return buildTelemetryBatch({
      chainId: this.deps.chainId,
      seed: this.deps.seed,
      nonce,
      fee,
      keyHeight,
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
    // Nothing in admission after a pump: what is still buffered waits for batches pending in the pool.
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Sends what is buffered now and resolves when no batch is in the check or in admission (tests, shutdown). */
  async drain(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = true;
    this.pump(true);
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops batching; readings still buffered are reported failed (UNAVAILABLE). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const r of this.buffer.splice(0)) r.settle(STOPPING);
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
