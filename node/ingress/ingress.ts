import { equalBytes } from '../../core/bytes.ts';
import { deviceKeyAt, type DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { formatAddress } from '../../core/keys.ts';
import { intervalOf, settlesAt } from '../../core/meter.ts';
import type { EnergyParams } from '../../core/params.ts';
import type { DeviceIngressApi, DevicePeer, DeviceSession, ReadingVerdict, SignedReading } from '../../rpc/grpc/device-ingress.ts';
import type { ReadingAck } from '../../rpc/node-api.ts';
import type { IssuedCommand } from '../../core/command.ts';
import type { Aggregator } from './aggregator.ts';
import type { BatchGate } from './batch-gate.ts';
import { HeldCommands } from './held-commands.ts';

/**
 * The node side of the device stream (rpc/grpc/device-ingress.ts DeviceIngressApi): who
 * may stream, what each reading must be, and where the good ones go.
 *
 * A device may stream here when it is registered, active, and operated by this node's
 * aggregator account. **Devices of another aggregator are refused** (DEVICE_NOT_SERVED,
 * gRPC FAILED_PRECONDITION naming the operator): a telemetry batch is sent by the devices'
 * operator and carries one aggregate signature, so only a node holding that operator's
 * key can batch them; the device connects to a node of its operator (its operator runs
 * one, or configures one as its aggregator). Forwarding to another node is not done: the
 * reading would cross a second, unauthenticated hop for nothing the device cannot do itself.
 *
 * A reading is dropped here, with its reason, when:
 * - TELEMETRY_SKEW: its time is more than half of maxReadingSkewMs from this node's clock
 *   (the other half is for batching and inclusion, so the batch is not refused for it);
 * - TELEMETRY_SETTLED: its interval settles before it could be included;
 * - TELEMETRY_OUT_OF_ORDER: not after the device's last accepted reading (here or on chain);
 * - TELEMETRY_KEY_ROTATED: the device has no key at the head's height yet.
 * The rest wait for their batch (node/ingress/aggregator.ts), whose check as it is built
 * gives their verdicts (node/ingress/batch-gate.ts: the signatures, together, then the
 * device's order, energy and rate, against cursors only checked readings move). The
 * stream's own buckets (rpc/grpc/device-stream.ts) bound what one stream sends; the gate's
 * rate bounds what a device's key gets into batches, however many streams it opens.
 */

export interface IngressDeps {
  readonly chainId: string;
  readonly aggregator: Uint8Array;
  /** The device record in the latest state. */
  readonly device: (id: string) => DeviceRecord | undefined;
  /** The height whose device keys sign (the aggregator's batches name it as keyHeight): the head's. */
  readonly keyHeight: () => number;
  readonly params: () => EnergyParams;
  /** The last reading accepted of a device (the aggregator's batches' check moves it). */
  readonly gate: Pick<BatchGate, 'lastAcceptedUs'>;
  readonly batcher: Pick<Aggregator, 'add' | 'room'>;
  /** Per-reading acknowledgements (node event 'reading-acks'). */
  readonly acks: (acks: readonly ReadingAck[]) => void;
  /** Wall clock, ms. */
  readonly clock?: () => number;
}

interface OpenSession {
  readonly onCommand: (c: IssuedCommand) => void;
  /** A reading of the stream verified under the device's key, or its mTLS certificate is the operator's (rpc/grpc/device-ingress.ts DeviceSession). */
  proven: boolean;
}

export class DeviceIngress implements DeviceIngressApi {
  readonly chainId: string;
  private readonly deps: IngressDeps;
  private readonly clock: () => number;
  private readonly sessions = new Map<string, Set<OpenSession>>();
  /** Commands for devices of this node's aggregator that have no open stream. */
  private readonly held = new HeldCommands();

  constructor(deps: IngressDeps) {
    this.deps = deps;
    this.chainId = deps.chainId;
    this.clock = deps.clock ?? Date.now;
  }

  nowUs(): bigint {
    return BigInt(this.clock()) * 1000n;
  }

  /** Devices with an open, proven stream now. */
  get connectedDevices(): number {
    let n = 0;
    for (const set of this.sessions.values()) if (this.provenIn(set)) n++;
    return n;
  }

  private provenIn(set: ReadonlySet<OpenSession> | undefined): boolean {
    if (set !== undefined) for (const s of set) if (s.proven) return true;
    return false;
  }

  /** The session proves its device: from now on it gets the device's commands, and those held for it first. */
  private prove(deviceId: string, entry: OpenSession): void {
    if (entry.proven) return;
    entry.proven = true;
    for (const c of this.held.take(deviceId, this.nowUs())) entry.onCommand(c);
  }

  /** Commands waiting for their devices to connect (one per device a command names). */
  get heldCommands(): number {
    return this.held.size;
  }

  private allowed(id: string, field: string): DeviceRecord {
    const d = this.deps.device(id);
    if (d === undefined) throw new JouleError(ErrorCode.DEVICE_UNKNOWN, `no device ${JSON.stringify(id)} is registered`, field);
    if (d.status !== 'active') throw new JouleError(ErrorCode.DEVICE_INACTIVE, `device ${JSON.stringify(id)} is ${d.status}: its telemetry is refused`, field);
    return d;
  }

  open(deviceId: string, peer: DevicePeer, onCommand: (c: IssuedCommand) => void): DeviceSession {
    const d = this.allowed(deviceId, 'device_id');
    if (!this.operatesHere(d)) {
      throw new JouleError(
        ErrorCode.DEVICE_NOT_SERVED,
        `device ${JSON.stringify(deviceId)} is operated by ${formatAddress(d.operator)}, not by this node's aggregator ${formatAddress(this.deps.aggregator)}: connect to a node of its operator`,
        'device_id',
      );
    }
    if (peer.certificateName !== undefined && peer.certificateName !== formatAddress(d.operator)) {
      throw new JouleError(
        ErrorCode.TX_UNAUTHORIZED,
        `the client certificate names ${JSON.stringify(peer.certificateName)}, not the device's operator ${formatAddress(d.operator)}`,
        'certificate',
      );
    }
    const entry: OpenSession = { onCommand, proven: false };
    let set = this.sessions.get(deviceId);
    if (set === undefined) this.sessions.set(deviceId, (set = new Set()));
    set.add(entry);
    if (peer.certificateName !== undefined) this.prove(deviceId, entry);
    let closed = false;
    return {
      deviceId,
      get proven() {
        return entry.proven;
      },
      submit: async (readings) => {
        const verdicts = await this.submit(deviceId, readings);
        if (!closed && verdicts.some((v) => v.ok)) this.prove(deviceId, entry);
        return verdicts;
      },
      dropped: (timestampUs, code) => this.deps.acks([{ deviceId, timestampUs: timestampUs ?? 0n, outcome: 'rejected', reason: code }]),
      close: () => {
        if (closed) return;
        closed = true;
        set.delete(entry);
        if (set.size === 0) this.sessions.delete(deviceId);
      },
    };
  }

  /**
   * A grid command (node event 'command-issued'): pushed at once to every proven stream of
   * its target devices; held for a target of this node's aggregator with no proven stream,
   * until one is proven within the command's window (node/ingress/held-commands.ts). A
   * stream that only names the device gets nothing: else anyone knowing a device's id could
   * read its commands, and take the held ones from it.
   * Returns the streams it was pushed to now.
   */
  command(c: IssuedCommand): number {
    const now = this.nowUs();
    if (c.validUntilUs < now) return 0;
    let delivered = 0;
    for (const id of c.deviceIds) {
      const open = this.sessions.get(id);
      if (!this.provenIn(open)) {
        const d = this.deps.device(id);
        if (d !== undefined && this.operatesHere(d)) this.held.hold(id, c, now);
        continue;
      }
      for (const s of open!) {
        if (!s.proven) continue;
        s.onCommand(c);
        delivered++;
      }
    }
    return delivered;
  }

  /** Whether the device streams to this node: its operator is this node's aggregator. */
  private operatesHere(d: DeviceRecord): boolean {
    return equalBytes(d.operator, this.deps.aggregator);
  }

  private async submit(deviceId: string, readings: readonly SignedReading[]): Promise<readonly ReadingVerdict[]> {
    let device: DeviceRecord;
    try {
      device = this.allowed(deviceId, 'device_id');
    } catch (e) {
      const j = e as JouleError;
      return readings.map(() => ({ ok: false, code: j.code, message: j.message }));
    }
    if (readings.length > this.deps.batcher.room())
      throw new JouleError(ErrorCode.RATE_LIMITED, 'this node holds as many readings waiting for their batch as it may; try later', 'readings');
    const verdicts: (ReadingVerdict | undefined)[] = readings.map(() => undefined);
    const drop = (i: number, code: ErrorCode, message: string) => (verdicts[i] = { ok: false, code, message });
    const p = this.deps.params();
    const nowMs = this.clock();
    const halfSkewUs = BigInt(Math.floor(p.maxReadingSkewMs / 2)) * 1000n;
    const nowUs = BigInt(nowMs) * 1000n;
    const before = this.deps.gate.lastAcceptedUs(deviceId);
    const key = deviceKeyAt(device, this.deps.keyHeight());
    readings.forEach((r, i) => {
      if (r.timestampUs - nowUs > halfSkewUs || nowUs - r.timestampUs > halfSkewUs)
        drop(i, ErrorCode.TELEMETRY_SKEW, `timestamp ${r.timestampUs} µs is more than ${p.maxReadingSkewMs / 2} ms from this node's clock`);
      else if (settlesAt(intervalOf(r.timestampUs, p.settlementIntervalMs), p) <= nowMs + p.maxReadingSkewMs / 2)
        drop(i, ErrorCode.TELEMETRY_SETTLED, `its settlement interval settles before the reading could be included`);
      else if (r.timestampUs <= before)
        drop(i, ErrorCode.TELEMETRY_OUT_OF_ORDER, `timestamp ${r.timestampUs} is not after the device's last accepted reading (${before})`);
      else if (key === undefined)
        drop(
          i,
          ErrorCode.TELEMETRY_KEY_ROTATED,
          `device ${JSON.stringify(deviceId)} has no key at height ${this.deps.keyHeight()} yet (registered in the last block): send it again`,
        );
    });
    // The rest wait for their batch, whose check (signatures, then order) gives their verdicts.
    const waiting = readings.flatMap((_, i) => (verdicts[i] === undefined ? [i] : []));
    const judged = await this.deps.batcher.add(waiting.map((i) => ({ ...readings[i]!, publicKey: key! })));
    waiting.forEach((i, j) => (verdicts[i] = judged[j]));
    const out = verdicts as ReadingVerdict[];
    this.deps.acks(
      readings.map((r, i) => {
        const v = out[i]!;
        return v.ok
          ? { deviceId, timestampUs: r.timestampUs, outcome: 'accepted' }
          : { deviceId, timestampUs: r.timestampUs, outcome: 'rejected', reason: v.code };
      }),
    );
    return out;
  }
}
