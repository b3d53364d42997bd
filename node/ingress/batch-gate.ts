import type { DeviceRecord } from '../../core/device.ts';
import { ErrorCode } from '../../core/errors.ts';
import { blsAddSignatures } from '../../core/keys.ts';
import type { MeterCursor } from '../../core/meter.ts';
import type { SignatureSet } from '../../core/signature-sets.ts';
import { readingSigningBytes } from '../../core/telemetry.ts';
import type { ReadingVerdict, SignedReading } from '../../rpc/grpc/device-ingress.ts';
import { TokenBucket } from '../../rpc/grpc/token-bucket.ts';
import { LruCache } from '../../state/lru.ts';
import { readingAllowance } from '../../vm/telemetry/allowance.ts';
import type { VerificationService } from '../verify/service.ts';

/**
 * The check a telemetry batch's readings pass as the batch is built (node/ingress/aggregator.ts):
 * their signatures, then each device's order. A reading is refused when:
 * - TX_BAD_SIGNATURE: its signature does not verify under the device's key;
 * - TELEMETRY_OUT_OF_ORDER: it is not after the device's last accepted reading (here, in
 *   this batch, or on chain);
 * - TELEMETRY_IMPOSSIBLE_ENERGY: more energy than the device's power limits allow since its
 *   previous reading (vm/telemetry/allowance.ts, so a batch never fails, nor flags the
 *   device, for it);
 * - RATE_LIMITED: more readings than `rate` accepted of the device, over all its streams.
 *
 * **Signatures first, as one sum.** The batch's readings are judged together, in chunks of
 * CHUNK (node/verify/batch.ts findInvalidTogether): each chunk's signatures are added up and
 * aggregate-verified, and bisected when that fails, so a forged reading costs O(log n) extra
 * checks. That is the check the validators make of the batch, about 0.6 of the cost of
 * judging each reading alone with random scalars, which the ingress did before.
 *
 * **Then the order, against cursors only checked readings move.** A forged reading never
 * moves a cursor, so one with a later timestamp cannot lock the device's genuine readings
 * out, and the rate counts only readings the key signed: a stream that merely names the
 * device (no mutual TLS) can spend neither.
 *
 * **A reading the order refuses leaves the sum.** The rest still verify together when every
 * reading taken out verifies alone, so those are checked alone (a few, rarely). If one does
 * not, two signatures' errors cancelled in the sum (only a holder of both keys can do that):
 * the rest are judged together again. Each round refuses at least one reading, so it ends.
 *
 * **The batch's signature comes with the verdicts.** Each chunk's check answers the sum of
 * its kept readings' signatures, so the batch's aggregate is the chunks' sums added up: the
 * signatures are not decoded again on this thread. Only a chunk the order took readings
 * out of is added up again from the readings it keeps.
 *
 * Batches' signatures are checked side by side; their order one batch at a time, each from
 * the cursors the last one left.
 */

/** Readings judged as one sum: one verification job each (a worker holds it for about 30 ms under load). */
const CHUNK = 64;
/**
 * Devices whose cursor and accepted-readings bucket are kept here (least recently used
 * forgotten first). A device forgotten falls back to the chain's cursor (one idle that long
 * has its readings final by then) and a full bucket.
 */
const MAX_DEVICES = 200_000;
/** LruCache counts by an estimate of bytes: here, one per device. */
const ONE_EACH = () => 1;

/**
 * Where a device's readings stand at this node: the last accepted timestamp and the
 * allowance carries (vm/telemetry/allowance.ts), ahead of the chain's cursor by the
 * readings accepted but not yet final. That keeps a replayed or re-sent reading out of a
 * second batch (a batch holding one would fail whole when executed).
 */
interface IngressCursor {
  readonly lastTimestampUs: bigint;
  readonly importCarry: number;
  readonly exportCarry: number;
}

/** A reading and the device key it must verify under (the key at the batch's keyHeight). */
export interface KeyedReading extends SignedReading {
  readonly publicKey: Uint8Array;
}

export interface BatchGateDeps {
  readonly chainId: string;
  readonly service: VerificationService;
  /** The device record in the latest state. */
  readonly device: (id: string) => DeviceRecord | undefined;
  /** The device's meter cursor in the latest state. */
  readonly chainCursor: (id: string) => MeterCursor | undefined;
  readonly settlementIntervalMs: () => number;
  /** Readings accepted per device (all its streams together): a second's worth and a burst. Default: no limit. */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  /** Wall clock, ms. */
  readonly clock?: () => number;
  /** Readings whose signatures were checked, and how many failed (metrics). */
  readonly onChecked?: (readings: number, bad: number) => void;
}

const refused = (code: ErrorCode, message: string): ReadingVerdict => ({ ok: false, code, message });
const BAD_SIGNATURE = refused(ErrorCode.TX_BAD_SIGNATURE, "the signature does not verify under the device's key");

/** The gate's answer: one verdict per reading, and the accepted readings' signatures added up (undefined when none is accepted). */
export interface GateVerdicts {
  readonly verdicts: ReadingVerdict[];
  readonly signature: Uint8Array | undefined;
}

/** Readings kept by one check of a sum (indexes of the batch), and their signatures added up. */
interface Sum {
  readonly members: readonly number[];
  readonly signature: Uint8Array | undefined;
}

/** Readings judged together: the indexes (of those judged) to drop, and the sums of the rest. */
interface Judged {
  readonly bad: number[];
  readonly sums: Sum[];
}

/** What the order rules make of a batch's readings, before anything is committed. */
interface Ordered {
  readonly accepted: number[];
  readonly refused: Map<number, ReadingVerdict>;
  readonly cursors: Map<string, IngressCursor>;
  readonly counts: Map<string, number>;
}

export class BatchGate {
  private readonly deps: BatchGateDeps;
  private readonly clock: () => number;
  private readonly cursors = new LruCache<IngressCursor>(MAX_DEVICES, ONE_EACH);
  private readonly buckets = new LruCache<TokenBucket>(MAX_DEVICES, ONE_EACH);
  private tail: Promise<unknown> = Promise.resolve();

  constructor(deps: BatchGateDeps) {
    this.deps = deps;
    this.clock = deps.clock ?? Date.now;
  }

  /** The device's last accepted reading's time (here or on chain), µs; 0 for none. */
  lastAcceptedUs(deviceId: string): bigint {
    return this.cursorOf(deviceId)?.lastTimestampUs ?? 0n;
  }

  /**
   * One verdict per reading, in order, and the accepted ones' signatures added up: they
   * verify together, and the device cursors have moved past them. The calls' signatures are
   * checked at once, their order one call after another, as called.
   */
  check(readings: readonly KeyedReading[]): Promise<GateVerdicts> {
    // The signatures do not depend on the cursors: their check starts now, beside the checks
    // of the batches before; only the order waits for theirs to be done.
    const signatures = this.together(
      readings,
      readings.map((_, i) => i),
    );
    // Awaited once the batches before are done; a refusal (a shed job) must not go unhandled till then.
    signatures.catch(() => {});
    const run = this.tail.then(() => this.run(readings, signatures));
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * Of readings that verified together, `kept` stay and `removed` leave: `drop`, the indexes
   * of `kept` to drop as well so that the rest still verify together (none, unless a removed
   * one does not verify alone), and the rest's signatures added up.
   */
  async keepTogether(kept: readonly KeyedReading[], removed: readonly KeyedReading[]): Promise<{ drop: number[]; signature: Uint8Array | undefined }> {
    const all = kept.map((_, i) => i);
    if (removed.length === 0 || kept.length === 0 || (await this.aloneBad(removed)).length === 0) return { drop: [], signature: sumOf(kept, all, []) };
    const { bad, sums } = await this.together(kept, all);
    const out = new Set(bad);
    return {
      drop: bad,
      signature: sumOf(
        kept,
        all.filter((i) => !out.has(i)),
        sums,
      ),
    };
  }

  private async run(readings: readonly KeyedReading[], signatures: Promise<Judged>): Promise<GateVerdicts> {
    const verdicts: (ReadingVerdict | undefined)[] = readings.map(() => undefined);
    let live = readings.map((_, i) => i);
    const first = await signatures;
    let sums = first.sums;
    const refuseBad = (bad: readonly number[], among: readonly number[]) => {
      for (const j of bad) verdicts[among[j]!] = BAD_SIGNATURE;
      const out = new Set(bad);
      return among.filter((_, j) => !out.has(j));
    };
    const pick = (idx: readonly number[]) => idx.map((i) => readings[i]!);
    live = refuseBad(first.bad, live);
    for (;;) {
      const o = this.order(pick(live));
      if (o.refused.size === 0) {
        this.commit(o);
        break;
      }
      const out = [...o.refused.keys()];
      const kept = o.accepted.map((j) => live[j]!);
      const removed = out.map((j) => live[j]!);
      for (const j of out) verdicts[live[j]!] = o.refused.get(j);
      const alone = await this.aloneBad(pick(removed));
      for (const j of alone) verdicts[removed[j]!] = BAD_SIGNATURE;
      live = kept;
      // Errors cancelled in the sum: what is left is judged together again.
      if (alone.length > 0) {
        const again = await this.together(readings, live);
        live = refuseBad(again.bad, live);
        sums = again.sums;
      }
    }
    return { verdicts: verdicts.map((v) => v ?? { ok: true }), signature: sumOf(readings, live, sums) };
  }

  /** Indexes of `readings` whose signatures do not verify each alone. */
  private aloneBad(readings: readonly KeyedReading[]): Promise<number[]> {
    return this.deps.service.findInvalid(this.sets(readings), { priority: 'telemetry', batchable: true });
  }

  /** Of `readings` at `idx`: the positions in `idx` to drop so that the rest verify together, and the rest's sums. */
  private async together(readings: readonly KeyedReading[], idx: readonly number[]): Promise<Judged> {
    const jobs: Promise<{ bad: number[]; sum: Sum }>[] = [];
    for (let at = 0; at < idx.length; at += CHUNK) {
      const chunk = idx.slice(at, at + CHUNK);
      const sets = this.sets(chunk.map((i) => readings[i]!));
      jobs.push(
        this.deps.service.findInvalidTogether(sets, { priority: 'telemetry', batchable: true }).then(({ invalid, sum }) => {
          const out = new Set(invalid);
          return { bad: invalid.map((j) => at + j), sum: { members: chunk.filter((_, j) => !out.has(j)), signature: sum } };
        }),
      );
    }
    const judged = await Promise.all(jobs);
    const bad = judged.flatMap((j) => j.bad);
    this.deps.onChecked?.(idx.length, bad.length);
    return { bad, sums: judged.map((j) => j.sum) };
  }

  private sets(readings: readonly KeyedReading[]): SignatureSet[] {
    return readings.map((r) => ({ kind: 'bls', publicKey: r.publicKey, message: readingSigningBytes(this.deps.chainId, r), signature: r.signature }));
  }

  private cursorOf(id: string): IngressCursor | undefined {
    const mine = this.cursors.get(id);
    const chain = this.deps.chainCursor(id);
    if (chain === undefined) return mine;
    if (mine === undefined || chain.lastTimestampUs >= mine.lastTimestampUs) return chain;
    return mine;
  }

  /** The device's accepted-readings bucket (undefined: no limit). */
  private bucketOf(id: string, nowMs: number): TokenBucket | undefined {
    const rate = this.deps.rate;
    if (rate === undefined) return undefined;
    let b = this.buckets.get(id);
    if (b === undefined) this.buckets.set(id, (b = new TokenBucket(rate.perSecond, rate.burst, nowMs)));
    return b;
  }

  /** Each device's readings in order, against its cursor and its bucket: nothing is committed. */
  private order(readings: readonly KeyedReading[]): Ordered {
    const nowMs = this.clock();
    const interval = this.deps.settlementIntervalMs();
    const o: Ordered = { accepted: [], refused: new Map(), cursors: new Map(), counts: new Map() };
    const devices = new Map<string, { record: DeviceRecord | undefined; noneOnChain: boolean; tokens: number }>();
    readings.forEach((r, i) => {
      const id = r.deviceId;
      let d = devices.get(id);
      if (d === undefined) {
        const tokens = this.bucketOf(id, nowMs)?.available(nowMs) ?? Infinity;
        devices.set(id, (d = { record: this.deps.device(id), noneOnChain: this.deps.chainCursor(id) === undefined, tokens }));
        const c = this.cursorOf(id);
        if (c !== undefined) o.cursors.set(id, c);
      }
      const cursor = o.cursors.get(id);
      if (d.record === undefined) {
        o.refused.set(i, refused(ErrorCode.DEVICE_UNKNOWN, `no device ${JSON.stringify(id)} is registered`));
        return;
      }
      if (cursor !== undefined && r.timestampUs <= cursor.lastTimestampUs) {
        o.refused.set(
          i,
          refused(ErrorCode.TELEMETRY_OUT_OF_ORDER, `timestamp ${r.timestampUs} is not after the device's last accepted reading (${cursor.lastTimestampUs})`),
        );
        return;
      }
      // None of the device's readings is on chain yet: the chain will judge each as the first
      // it holds if the batches of the ones before are lost (the first-reading allowance is the
      // one rule an older cursor does not make more lenient), so each must pass that rule too.
      const a = readingAllowance(cursor === undefined ? undefined : { ...cursor, open: undefined }, r, d.record, interval);
      const asFirst = d.noneOnChain && cursor !== undefined ? readingAllowance(undefined, r, d.record, interval) : a;
      if (!a.possible || !asFirst.possible) {
        const allowedWh = a.allowedWh < asFirst.allowedWh ? a.allowedWh : asFirst.allowedWh;
        o.refused.set(
          i,
          refused(
            ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY,
            `${r.netEnergyWh} Wh is more than the device's power limits allow since its previous reading (${allowedWh} Wh)${a.possible ? ', or as its first reading on chain' : ''}`,
          ),
        );
        return;
      }
      const count = o.counts.get(id) ?? 0;
      if (count + 1 > d.tokens) {
        o.refused.set(
          i,
          refused(ErrorCode.RATE_LIMITED, `more than ${this.deps.rate!.perSecond} readings a second of device ${JSON.stringify(id)}, over all its streams`),
        );
        return;
      }
      o.counts.set(id, count + 1);
      o.cursors.set(id, { lastTimestampUs: a.cursor.lastTimestampUs, importCarry: a.cursor.importCarry, exportCarry: a.cursor.exportCarry });
      o.accepted.push(i);
    });
    return o;
  }

  private commit(o: Ordered): void {
    const nowMs = this.clock();
    for (const [id, count] of o.counts) {
      this.cursors.set(id, o.cursors.get(id)!);
      this.bucketOf(id, nowMs)?.take(count, nowMs);
    }
  }
}

/**
 * The signatures of `readings` at `live` added up: each check's sum as it answered it, and
 * the readings themselves where the order took some of a check's readings out (or where
 * none answered a sum).
 */
function sumOf(readings: readonly KeyedReading[], live: readonly number[], sums: readonly Sum[]): Uint8Array | undefined {
  if (live.length === 0) return undefined;
  const isLive = new Uint8Array(readings.length);
  for (const i of live) isLive[i] = 1;
  const parts: Uint8Array[] = [];
  for (const sum of sums) {
    const kept = sum.members.filter((i) => isLive[i] === 1);
    if (kept.length === sum.members.length && sum.signature !== undefined) parts.push(sum.signature);
    else for (const i of kept) parts.push(readings[i]!.signature);
    for (const i of kept) isLive[i] = 0;
  }
  for (const i of live) if (isLive[i] === 1) parts.push(readings[i]!.signature);
  return parts.length === 1 ? parts[0] : blsAddSignatures(parts);
}
