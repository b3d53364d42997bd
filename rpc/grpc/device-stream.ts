import type { Http2Stream } from 'node:http2';
import { status as GrpcStatus, type ServerDuplexStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { isDeviceId } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { BLS_SIGNATURE_LENGTH } from '../../core/keys.ts';
import { INT64_MAX, INT64_MIN } from '../../core/telemetry.ts';
import type { DeviceTelemetryMessage, GridCommandMessage } from './device-contract.ts';
import type { DeviceIngressApi, DeviceSession, SignedReading } from './device-ingress.ts';
import type { IssuedCommand } from '../../core/command.ts';
import { type DeviceStreamMetrics, NO_DEVICE_STREAM_METRICS } from './metrics.ts';
import { toServiceError } from './status.ts';
import { FailureBudget } from './failure-budget.ts';
import { TokenBucket } from './token-bucket.ts';
import { peerAddress } from './peer-address.ts';

/**
 * `energysettlement.v1.EnergyDeviceStream/ConnectDevice`: one device's bidirectional stream.
 *
 * - Authentication: the first reading names the device; the ingress opens a session for it
 *   or the stream ends (UNAUTHENTICATED: unknown, inactive, no mTLS certificate;
 *   PERMISSION_DENIED: the mTLS certificate is not the operator's; FAILED_PRECONDITION:
 *   operated by another aggregator). A later reading naming another
 *   device is dropped as malformed.
 * - Each reading gets a verdict from the ingress (signature, timestamp, value): a bad one is
 *   dropped and counted (its acknowledgement, with the reason, goes out through the node
 *   event 'reading-acks': the device's wire carries only GridCommand). Strikes: +4 per
 *   reading dropped for the device's own fault (a bad signature, malformed, out of order,
 *   impossible, or stamped in the future), -1 per accepted one; at `4 x maxStrikes` the
 *   stream ends with PERMISSION_DENIED (a device with more than one bad reading in five gets
 *   there). A reading that merely arrived late (TELEMETRY_SKEW into the past,
 *   TELEMETRY_SETTLED, TELEMETRY_KEY_ROTATED: a stalled network or device, or the node's
 *   own timing) is dropped and counted but is no strike: lateness is not misbehaviour.
 * - Rates: a token bucket per stream (for the device it names) and one per connection (all
 *   streams of one HTTP/2 connection); a reading beyond either ends the stream with
 *   RESOURCE_EXHAUSTED. They bound what one stream sends. What a device gets accepted over
 *   all its streams is the ingress's limit, counted on readings its key signed: a bucket
 *   shared here would let any stream that merely names a device (no mTLS) spend it.
 * - Buffers: at most `maxPendingReadings` readings wait for verdicts per stream; beyond,
 *   the stream stops reading (HTTP/2 flow control pushes back on the device). Commands
 *   not yet taken by the device are at most `maxQueuedCommands`; beyond, the device is a
 *   slow consumer and is disconnected (RESOURCE_EXHAUSTED), never buffered without bound.
 * - Proof: naming a device proves nothing, so a stream is proven only by a reading verified
 *   under the device's key (or at once by an mTLS certificate of its operator). Until then it
 *   gets none of the device's commands (node/ingress/ingress.ts); one still unproven
 *   `proveWithinMs` after it opened, whether it sent nothing or only readings that failed,
 *   is closed with UNAUTHENTICATED (DEVICE_UNPROVEN), but never while its reading waits for
 *   the failure budget's room below or is being checked, so that streams holding a place
 *   without sending anything a device signed do not last. At most `maxUnprovenStreams` wait
 *   for their proof at once (a stream costs the node about 8 KB of heap; the port's own
 *   limits allow half a million): beyond, a new stream ends at once with RESOURCE_EXHAUSTED
 *   (SERVER_BUSY) and its device retries, as after a node's restart a whole fleet may.
 * - Work in vain: a reading whose signature fails costs the node its verification, and
 *   anyone may open streams in a device's name. An unproven stream has one reading at a
 *   time verified, each with a place reserved in the failure budget of its remote address
 *   and of the node (rpc/grpc/failure-budget.ts; it waits for a place when there is none),
 *   and its failures are charged there: an address whose budget is spent has the failing
 *   stream ended and its new streams refused, RESOURCE_EXHAUSTED (RATE_LIMITED), until it
 *   refills. Proven streams are never charged: a flood of streams in devices' names can
 *   slow new devices' arrival, never the connected fleet's readings.
 * - Commands whose validity ended are never written.
 */

export interface DeviceStreamLimits {
  readonly readingsPerSecondPerDevice: number;
  readonly burstPerDevice: number;
  readonly readingsPerSecondPerConnection: number;
  readonly burstPerConnection: number;
  readonly maxPendingReadings: number;
  readonly maxQueuedCommands: number;
  readonly maxStrikes: number;
  /** A stream with no reading verified under its device's key this long after it opened is closed (DEVICE_UNPROVEN), ms. */
  readonly proveWithinMs: number;
  /** Streams waiting for their proof at once; beyond, a new stream ends at once with RESOURCE_EXHAUSTED (SERVER_BUSY). */
  readonly maxUnprovenStreams: number;
  /** Readings of unproven streams that may fail their signature check, a second from one remote address (bursts of 10 x) and from all (rpc/grpc/failure-budget.ts). */
  readonly unprovenFailuresPerSecondPerAddress: number;
  readonly unprovenFailuresPerSecond: number;
  /** With mutual TLS: the client certificate must name the device's operator. */
  readonly requireOperatorCertificate: boolean;
}

export const DEFAULT_DEVICE_STREAM_LIMITS: DeviceStreamLimits = {
  readingsPerSecondPerDevice: 50,
  burstPerDevice: 100,
  readingsPerSecondPerConnection: 5000,
  burstPerConnection: 10_000,
  maxPendingReadings: 256,
  maxQueuedCommands: 16,
  maxStrikes: 16,
  proveWithinMs: 30_000,
  maxUnprovenStreams: 8192,
  unprovenFailuresPerSecondPerAddress: 10,
  unprovenFailuresPerSecond: 200,
  requireOperatorCertificate: false,
};

export interface DeviceStreamOptions {
  readonly ingress: DeviceIngressApi;
  readonly limits?: Partial<DeviceStreamLimits>;
  readonly metrics?: DeviceStreamMetrics;
  /** Wall clock, ms (tests drive it). */
  readonly clock?: () => number;
}

type Call = ServerDuplexStream<DeviceTelemetryMessage, GridCommandMessage>;

const malformed = (field: string, why: string) => new JouleError(ErrorCode.INVALID_PARAMS, why, field);
const INT64_TEXT = /^-?[0-9]{1,19}$/;

function int64(v: unknown, field: string): bigint {
  const text = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof text !== 'string' || !INT64_TEXT.test(text)) throw malformed(field, 'must be a 64-bit integer');
  const n = BigInt(text);
  if (n < INT64_MIN || n > INT64_MAX) throw malformed(field, 'must be a 64-bit integer');
  return n;
}

const tooManyFailures = (): JouleError =>
  new JouleError(
    ErrorCode.RATE_LIMITED,
    'too many readings of streams from this address (or from all) failed their signature check before proving a device: new streams are refused until the budget refills',
    'signature',
  );

/** A message as a reading, or INVALID_PARAMS naming the contract's field. */
export function readingOfMessage(m: DeviceTelemetryMessage): SignedReading {
  if (!isDeviceId(m.device_id)) throw malformed('device_id', 'must be 1-64 characters of letters, digits, ".", "_", ":" or "-"');
  const timestampUs = int64(m.timestamp_us, 'timestamp_us');
  if (timestampUs <= 0n) throw malformed('timestamp_us', 'must be a positive Unix time in microseconds');
  const netEnergyWh = int64(m.net_energy_wh, 'net_energy_wh');
  const soc = m.state_of_charge_percent;
  if (!Number.isInteger(soc) || soc < 0 || soc > 100) throw malformed('state_of_charge_percent', 'must be 0..100');
  if (!(m.signature instanceof Uint8Array) || m.signature.length !== BLS_SIGNATURE_LENGTH)
    throw malformed('signature', `must be ${BLS_SIGNATURE_LENGTH} bytes (a compressed BLS12-381 G2 signature)`);
  return { deviceId: m.device_id, timestampUs, netEnergyWh, stateOfChargePercent: soc, signature: new Uint8Array(m.signature) };
}

/** The wire form of a command; floats only here (power kW, price cents), never in anything hashed or signed. */
export function commandMessage(c: IssuedCommand): GridCommandMessage {
  return {
    command_id: c.commandId,
    type: c.type,
    power_limit_kw: c.powerLimitW / 1000,
    price_per_kwh_cents: Number(c.priceMicroPerKwh) / 10_000,
    valid_until_timestamp_us: c.validUntilUs.toString(),
    command_hash: c.commandHash,
  };
}

/**
 * The HTTP/2 stream under a call (grpc-js keeps it private): the one way to drop a client
 * that reads nothing. It is held by the innermost of the call's interceptors (the server's
 * own and ours, rpc/grpc/call-metrics.ts), each holding the next as `nextCall`.
 */
function http2StreamOf(call: Call): Http2Stream | undefined {
  type Layer = { nextCall?: Layer; stream?: Http2Stream };
  let layer = (call as unknown as { call?: Layer }).call;
  for (let depth = 0; layer !== undefined && depth < 8; depth++) {
    if (layer.stream !== undefined && typeof layer.stream.close === 'function') return layer.stream;
    layer = layer.nextCall;
  }
  return undefined;
}

export function deviceStreamService(opts: DeviceStreamOptions): UntypedServiceImplementation {
  const limits = { ...DEFAULT_DEVICE_STREAM_LIMITS, ...opts.limits };
  const metrics = opts.metrics ?? NO_DEVICE_STREAM_METRICS;
  const clock = opts.clock ?? Date.now;
  const connections = new Map<string, { bucket: TokenBucket; streams: number }>();
  const failures = new FailureBudget(
    {
      perAddressPerSecond: limits.unprovenFailuresPerSecondPerAddress,
      perAddressBurst: 10 * limits.unprovenFailuresPerSecondPerAddress,
      perSecond: limits.unprovenFailuresPerSecond,
      burst: 10 * limits.unprovenFailuresPerSecond,
      maxAddresses: 65_536,
    },
    clock(),
  );
  let open = 0;
  let unproven = 0;

  /** Pumps of unproven streams waiting for a place in the failure budget, in arrival order: tried again when a check settles, and every 100 ms for refills. */
  const waiting = new Set<() => void>();
  let retryTimer: NodeJS.Timeout | undefined;
  const retryLater = (): void => {
    if (waiting.size === 0 || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retryWaiting();
    }, 100);
    retryTimer.unref();
  };
  const retryWaiting = (): void => {
    for (const resume of [...waiting]) {
      waiting.delete(resume);
      resume(); // back in the set (not run again now) if there is still no room
    }
    retryLater();
  };

  /** Ends a call with the status of `error`, counted. */
  const endWith = (call: Call, error: unknown): void => {
    const status = toServiceError(error, undefined, 'device-stream');
    metrics.streamEnded(GrpcStatus[status.code], open);
    call.emit('error', status);
  };

  function connectDevice(call: Call): void {
    const peer = call.getPeer();
    const address = peerAddress(peer);
    // Refused before anything of the stream is held.
    if (failures.exhausted(address, clock())) {
      endWith(call, tooManyFailures());
      return;
    }
    if (unproven >= limits.maxUnprovenStreams) {
      endWith(
        call,
        new JouleError(
          ErrorCode.SERVER_BUSY,
          `${limits.maxUnprovenStreams} streams are waiting for a reading that proves their device: try again shortly`,
          'device_id',
        ),
      );
      return;
    }
    unproven++;
    metrics.streamsUnproven(unproven);
    let conn = connections.get(peer);
    if (conn === undefined) {
      conn = { bucket: new TokenBucket(limits.readingsPerSecondPerConnection, limits.burstPerConnection, clock()), streams: 0 };
      connections.set(peer, conn);
    }
    conn.streams++;
    open++;
    metrics.streamOpened(open);
    let session: DeviceSession | undefined;
    let bucket: TokenBucket | undefined;
    const queue: SignedReading[] = [];
    let submitting = false;
    let paused = false;
    let halfClosed = false;
    let ended = false;
    let strikes = 0;
    const proven = (): boolean => session?.proven === true;
    let countedOut = false;
    /** Counts the stream out of the unproven once: when its device is proven, or when it ends first. */
    const leaveUnproven = (): void => {
      if (countedOut) return;
      countedOut = true;
      unproven--;
      metrics.streamsUnproven(unproven);
    };
    const checkProof = (): void => {
      if (proven()) {
        leaveUnproven();
        clearTimeout(proofDeadline);
      }
    };
    // Cleared by finish, however the stream ends.
    const proofDeadline = setTimeout(() => {
      if (proven()) return;
      // A reading waiting for the failure budget's room, or being checked, is the node's to finish, not the device's: the clock starts again.
      if (waiting.has(pump) || submitting) {
        proofDeadline.refresh();
        return;
      }
      finish(
        new JouleError(
          ErrorCode.DEVICE_UNPROVEN,
          `no reading of this stream verified under its device's key within ${limits.proveWithinMs / 1000} s of its opening: a stream proves its device with a reading the device signed`,
          'signature',
        ),
      );
    }, limits.proveWithinMs);
    proofDeadline.unref();

    const finish = (error?: unknown): void => {
      if (ended) return;
      ended = true;
      clearTimeout(proofDeadline);
      waiting.delete(pump);
      leaveUnproven();
      session?.close();
      open--;
      if (--conn.streams === 0) connections.delete(peer);
      if (error === undefined) {
        metrics.streamEnded('OK', open);
        call.end();
        return;
      }
      endWith(call, error);
    };

    /** A dropped reading; `ours`: dropped here, before the ingress saw it (which acknowledges its own drops). */
    const strike = (code: ErrorCode, message: string, timestampUs: bigint | undefined, ours: boolean): void => {
      metrics.reading(code);
      if (ours) session?.dropped(timestampUs, code, message);
      strikes += 4;
      if (strikes >= 4 * limits.maxStrikes)
        finish(new JouleError(ErrorCode.DEVICE_MISBEHAVING, `too many readings dropped (the last: ${code}): the stream is closed`, 'device_id'));
    };

    /** Dropped for arriving late, not for being wrong: no strike. */
    const late = (code: ErrorCode, timestampUs: bigint): boolean =>
      code === ErrorCode.TELEMETRY_SETTLED ||
      code === ErrorCode.TELEMETRY_KEY_ROTATED ||
      (code === ErrorCode.TELEMETRY_SKEW && timestampUs < BigInt(clock()) * 1000n);

    const pump = (): void => {
      if (submitting || ended || session === undefined) return;
      if (queue.length === 0) {
        if (halfClosed) finish();
        return;
      }
      // Unproven: one reading at a time, each with a place reserved in the failure budget (waiting for one if need be).
      const reserved = !proven();
      if (reserved && !failures.reserve(address, clock())) {
        waiting.add(pump);
        retryLater();
        return;
      }
      const batch = queue.splice(0, reserved ? 1 : queue.length);
      if (paused && queue.length === 0) {
        paused = false;
        call.resume();
      }
      submitting = true;
      const settle = (failed: boolean): void => {
        if (!reserved) return;
        failures.settle(address, failed, clock());
        retryWaiting();
      };
      session.submit(batch).then(
        (verdicts) => {
          submitting = false;
          const failed = verdicts.some((v) => !v.ok && v.code === ErrorCode.TX_BAD_SIGNATURE);
          settle(failed);
          if (ended) return;
          verdicts.forEach((v, i) => {
            if (ended) return;
            if (v.ok) {
              metrics.reading('accepted');
              strikes = Math.max(0, strikes - 1);
            } else if (v.code === ErrorCode.DEVICE_INACTIVE || v.code === ErrorCode.DEVICE_UNKNOWN) {
              metrics.reading(v.code);
              finish(new JouleError(v.code, v.message, 'device_id'));
            } else if (late(v.code, batch[i]!.timestampUs)) metrics.reading(v.code);
            else strike(v.code, v.message, batch[i]!.timestampUs, false);
          });
          if (!ended) checkProof();
          if (!ended && failed && failures.exhausted(address, clock())) finish(tooManyFailures());
          pump();
        },
        (e: unknown) => {
          submitting = false;
          settle(false);
          finish(e);
        },
      );
    };

    const onCommand = (c: IssuedCommand): void => {
      if (ended) return;
      if (c.validUntilUs < BigInt(clock()) * 1000n) {
        metrics.command('expired');
        return;
      }
      if (call.writableLength >= limits.maxQueuedCommands) {
        metrics.command('slow-consumer');
        finish(new JouleError(ErrorCode.SLOW_CONSUMER, `the device took none of its last ${limits.maxQueuedCommands} commands: disconnected`, 'command'));
        // Trailers cannot pass a client that reads nothing: drop its stream after a grace period.
        setTimeout(() => http2StreamOf(call)?.close(0x8), 1000).unref();
        return;
      }
      call.write(commandMessage(c));
      metrics.command('sent');
    };

    const authenticate = (reading: SignedReading): boolean => {
      try {
        const cn = call.getAuthContext()?.sslPeerCertificate?.subject?.CN;
        const cert = Array.isArray(cn) ? cn[0] : cn;
        if (limits.requireOperatorCertificate && cert === undefined)
          throw new JouleError(ErrorCode.DEVICE_UNKNOWN, 'mutual TLS: the client presented no certificate', 'device_id');
        session = opts.ingress.open(reading.deviceId, { connection: peer, certificateName: cert }, onCommand);
        bucket = new TokenBucket(limits.readingsPerSecondPerDevice, limits.burstPerDevice, clock());
        checkProof();
        return true;
      } catch (e) {
        finish(e);
        return false;
      }
    };

    call.on('data', (m: DeviceTelemetryMessage) => {
      if (ended) return;
      const now = clock();
      let reading: SignedReading | undefined;
      let bad: JouleError | undefined;
      try {
        reading = readingOfMessage(m);
      } catch (e) {
        bad = e as JouleError;
      }
      if (session === undefined) {
        if (reading === undefined && !isDeviceId(m.device_id)) {
          finish(new JouleError(ErrorCode.DEVICE_UNKNOWN, 'the first reading must name a registered device', 'device_id'));
          return;
        }
        const named = reading ?? { deviceId: m.device_id, timestampUs: 0n, netEnergyWh: 0n, stateOfChargePercent: 0, signature: new Uint8Array() };
        if (!authenticate(named)) return;
      }
      if (!bucket!.take(1, now) || !conn.bucket.take(1, now)) {
        metrics.reading(ErrorCode.RATE_LIMITED);
        finish(new JouleError(ErrorCode.RATE_LIMITED, 'readings arrive faster than this node accepts from one device or connection', 'device_id'));
        return;
      }
      if (reading !== undefined && reading.deviceId !== session!.deviceId) {
        bad = malformed('device_id', `the stream belongs to device ${JSON.stringify(session!.deviceId)}`);
        reading = undefined;
      }
      if (reading === undefined) {
        strike(bad!.code, bad!.message, undefined, true);
        return;
      }
      queue.push(reading);
      if (queue.length >= limits.maxPendingReadings && !paused) {
        paused = true;
        call.pause();
      }
      pump();
    });
    call.on('end', () => {
      halfClosed = true;
      pump();
      if (session === undefined) finish();
    });
    call.on('cancelled', () => finish());
    call.on('error', () => {
      // A client gone mid-stream: nothing to answer.
      if (!ended) finish();
    });
  }

  return { ConnectDevice: connectDevice as never };
}
