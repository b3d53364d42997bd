import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClientDuplexStream, credentials, loadPackageDefinition, type Client, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { blsSign } from '../../core/keys.ts';
import type { BlockJson, StatusJson, TransactionJson } from '../../core/rpc-json.ts';
import { READINGS_SKIPPED_EVENT, telemetrySigningBytes } from '../../core/telemetry.ts';
import { TxType } from '../../core/tx/types.ts';
import { type DevnetNode, readDevnetFile } from '../devnet-file.ts';
import { fleetDevice, type FleetDevice } from '../fleet.ts';
import { CliError, RpcClient } from '../rpc-client.ts';
import { FleetMeters } from '../fleet-meter.ts';
import { FinalAcks } from './final-acks.ts';
import { ScrapedTotal } from './scraped-total.ts';
import { senderContext } from './sender.ts';

/**
 * `joule simulate devices --devnet DIR`: a fleet of devices streaming signed readings over
 * gRPC (energysettlement.v1.EnergyDeviceStream/ConnectDevice, the device contract) to the
 * devnet's validators. Device i streams to validator i mod n, and is registered (once) by
 * that validator's aggregator account (DIR/keys/validator-<i>/aggregator.key, which the
 * devnet makes the operator of its devices). `--rate` readings a second for the whole
 * fleet, `--bad-fraction` of them signed over other bytes (the node drops them).
 *
 * Every `--report` seconds, when the sending stops (the last, shorter window), and at the
 * end, it prints readings/s sent, acknowledged (the nodes'
 * joule_grpc_readings_total{outcome="accepted"}: the device wire itself carries only
 * GridCommand), final and the send-to-final latency p50 / p99 of the readings final in that
 * window. Final is as a device sees it: the reading's 'final' acknowledgement arrived from
 * the validator it streams to (final-acks.ts; subscribed before the first reading is sent),
 * and the latency ends at that arrival. At the end, a cross-check: the fleet's readings of
 * the run found in final telemetry batches of validator 0's blocks.
 *
 * Readings are signed with blst. Signing costs about as much as verifying, so at
 * benchmark rates a simulator signing as it sends takes the CPU the nodes need (and falls
 * behind on a loaded machine): `--presign` signs the whole run first, in worker threads,
 * each reading stamped with the time it is due, then streams them at their times. The
 * @noble/curves signer (the interop check against the node's blst) is the --aggregator-key
 * mode's (cli/fleet.ts).
 */

export interface GrpcSimOptions {
  readonly devnet: string;
  readonly count: number;
  readonly rate: number;
  readonly badFraction: number;
  readonly seconds: number | undefined;
  readonly report: number;
  readonly seed: string;
  readonly prefix: string;
  readonly json: boolean;
  /** Sign the whole run's readings before streaming (needs `seconds`): the simulator then costs the machine only its writes. */
  readonly presign: boolean;
  readonly register: (ctx: Awaited<ReturnType<typeof senderContext>>, fleet: readonly FleetDevice[]) => Promise<void>;
}

/** Each simulated device's production at 100 %, W (its readings are 60-100 % of it): within the registered export limit. */
const DEVICE_POWER_W = 4000;
const PROTO = fileURLToPath(new URL('../../proto/energysettlement/v1/device.proto', import.meta.url));
/** Streams per gRPC connection: below the server's default limit of 128. */
const STREAMS_PER_CHANNEL = 100;
/** A reading with no final ack this long after it was sent is given up on (and the latencies' range). */
const GIVE_UP_MS = 60_000;
/** How long the run's end waits for the last readings' final acks. */
const DRAIN_MS = 15_000;
/** The end's cross-check fetches at most this many blocks. */
const MAX_CHECKED_BLOCKS = 1000;

function deviceClientConstructor(): ServiceClientConstructor {
  const pkg = loadSync(PROTO, { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true });
  return (loadPackageDefinition(pkg) as unknown as { energysettlement: { v1: { EnergyDeviceStream: ServiceClientConstructor } } }).energysettlement.v1
    .EnergyDeviceStream;
}

/** Each node's count of readings accepted (joule_grpc_readings_total), added to `into`; a node that does not answer keeps its last count. */
async function scrapeAccepted(nodes: readonly DevnetNode[], into: ScrapedTotal): Promise<number> {
  await Promise.all(
    nodes.map(async (n) => {
      let count: number | undefined;
      try {
        const text = await (await fetch(n.metrics, { signal: AbortSignal.timeout(2000) })).text();
        count = 0;
        for (const line of text.split('\n'))
          if (line.startsWith('joule_grpc_readings_total{') && line.includes('outcome="accepted"')) count += Number(line.split(' ').at(-1));
      } catch {
        // a node down or busy (or stopping at the run's end): its last count stands
      }
      into.observe(n.name, count);
    }),
  );
  return into.total;
}

export async function simulateOverGrpc(o: GrpcSimOptions): Promise<void> {
  if (o.presign && o.seconds === undefined) throw new CliError('INVALID_PARAMS', '--presign signs the whole run first: give --seconds', 'presign');
  const file = readDevnetFile(o.devnet);
  const nodes = file.nodes;
  // The fleet's keys first: deriving thousands blocks the event loop for seconds, and a
  // keep-alive connection the node closed meanwhile (idle 5 s) would be reused unknowingly
  // by the next call and fail with "other side closed" (4,000 devices did).
  const fleet = Array.from({ length: o.count }, (_, i) => fleetDevice(o.seed, o.prefix, i));
  // The devnet may be starting (npm start runs this beside it): wait for every node to answer.
  for (const n of nodes) {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        await new RpcClient(n.rpc).call<StatusJson>('joule_status');
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  const say = (line: string, json: Record<string, unknown>) => process.stdout.write(o.json ? `${JSON.stringify(json)}\n` : `${line}\n`);
  // Registration, by each validator's aggregator account, of the devices that stream to it.
  for (const [v, node] of nodes.entries()) {
    const mine = fleet.filter((_, i) => i % nodes.length === v);
    if (mine.length === 0) continue;
    const key = join(node.home, 'keys', 'aggregator.key');
    const ctx = await senderContext({ key, rpc: node.rpc });
    await o.register(ctx, mine);
  }
  const chainId = file.chainId;
  // Finals: each validator's acknowledgements of the devices streaming to it, subscribed before the first reading is sent.
  const acks = new FinalAcks({ giveUpMs: GIVE_UP_MS });
  await acks.subscribe(
    nodes.map((node, v) => ({ address: node.grpc, deviceIds: fleet.filter((_, i) => i % nodes.length === v).map((d) => d.id) })),
    o.rate / o.count,
  );
  const Ctor = deviceClientConstructor();
  const clients: Client[] = [];
  const streams: ClientDuplexStream<unknown, unknown>[] = [];
  const last = new Map<string, bigint>();
  let sent = 0;
  let bad = 0;
  let commands = 0;
  let skipped = 0;
  const ended: Record<string, number> = {};
  const deviceStream: ClientDuplexStream<unknown, unknown>[] = [];
  for (const [v, node] of nodes.entries()) {
    const mine = fleet.map((d, i) => ({ d, i })).filter(({ i }) => i % nodes.length === v);
    for (let c = 0; c < mine.length; c += STREAMS_PER_CHANNEL) {
      // A pool of its own: without it grpc-js would share one connection among all channels to a node.
      const client = new Ctor(node.grpc, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      clients.push(client);
      for (const { d, i } of mine.slice(c, c + STREAMS_PER_CHANNEL)) {
        const s = (client as unknown as { ConnectDevice(): ClientDuplexStream<unknown, unknown> }).ConnectDevice();
        s.on('data', () => commands++);
        s.on('error', (e: { code?: number; details?: string }) => {
          const k = String(e.details?.split(':')[0] ?? e.code);
          ended[k] = (ended[k] ?? 0) + 1;
        });
        streams.push(s);
        deviceStream[i] = s;
        void d;
      }
    }
  }
  const rpc = new RpcClient(nodes[0]!.rpc);
  const fromHeight = (await rpc.call<StatusJson>('joule_status')).height;
  let startedAt = Date.now();
  const acceptedTotal = new ScrapedTotal();
  const acceptedAtStart = await scrapeAccepted(nodes, acceptedTotal);
  let window = { at: startedAt, sent: 0, accepted: acceptedAtStart, final: 0 };
  const report = async (label: string, onChain?: number | null): Promise<void> => {
    const now = Date.now();
    const accepted = await scrapeAccepted(nodes, acceptedTotal);
    const secs = Math.max(0.001, (now - window.at) / 1000);
    const latency = label === 'done' ? acks.runPercentiles() : acks.takeWindow();
    const final = acks.final;
    const fig = {
      event: label,
      seconds: Number(((now - startedAt) / 1000).toFixed(1)),
      sentPerSecond: Math.round((sent - window.sent) / secs),
      acknowledgedPerSecond: Math.round((accepted - window.accepted) / secs),
      finalPerSecond: Math.round((final - window.final) / secs),
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      sent,
      bad,
      acknowledged: accepted - acceptedAtStart,
      final,
      ...(onChain === undefined ? {} : { finalOnChain: onChain }),
      rejected: { ...acks.rejected },
      uncounted: { ...acks.uncounted },
      noFinalAck: acks.noFinalAck,
      commands,
      skipped,
      streamsEnded: { ...ended },
      ackStreamsEnded: { ...acks.ended },
    };
    const counted = (what: string, counts: Record<string, number>) => (Object.keys(counts).length > 0 ? `, ${what}: ${JSON.stringify(counts)}` : '');
    say(
      `${label === 'report' ? `t=${fig.seconds}s` : 'total'}: sent ${fig.sentPerSecond}/s, acknowledged ${fig.acknowledgedPerSecond}/s, final ${fig.finalPerSecond}/s, send-to-final p50 ${fig.p50Ms ?? '-'} ms p99 ${fig.p99Ms ?? '-'} ms (sent ${sent}, bad ${bad}, final ${final}${onChain === undefined ? '' : ` (on chain: ${onChain ?? 'not checked'})`}, commands ${commands}${skipped > 0 ? `, ${skipped} skipped: the simulator fell behind` : ''}${counted('rejected', acks.rejected)}${counted('in a block but uncounted', acks.uncounted)}${acks.noFinalAck > 0 ? `, ${acks.noFinalAck} without a final ack` : ''}${counted('streams ended', ended)}${counted('ack streams ended', acks.ended)})`,
      fig,
    );
    window = { at: now, sent, accepted, final };
  };
  // Sending: the fleet's readings spread evenly over each second.
  const perDeviceMs = (1000 * o.count) / o.rate;
  const meters = new FleetMeters(DEVICE_POWER_W);
  let next = 0;
  let stop = false;
  let sendFrom = startedAt;
  let presigned: { i: number; ts: bigint; wh: bigint; bad: boolean; signature: Uint8Array }[] | undefined;
  if (o.presign) {
    const plan = await presignRun(o, chainId, fleet, say);
    presigned = plan.readings;
    sendFrom = plan.startMs;
    await new Promise((r) => setTimeout(r, Math.max(0, sendFrom - Date.now())));
  }
  const tick = (): void => {
    if (stop) return;
    const now = Date.now();
    const due = Math.floor(((now - sendFrom) / perDeviceMs) * o.count);
    // A simulator that fell behind skips what it missed beyond a bound rather than sending a
    // burst of readings stamped now but delivered late. Signing as it goes, it falls behind
    // by its own signing, so the bound is 50 ms of readings. Presigned, it falls behind only
    // when the machine does not run it (a busy 2-core machine may not for tens of ms: 1 % of
    // an offer a run lost that way), so it catches up on up to a second of readings, each
    // with its planned timestamp (its latency counts from its sending): it sends what it offers.
    const most = Math.max(1, Math.ceil(presigned === undefined ? o.rate / 20 : o.rate));
    if (due - next > most) {
      skipped += due - next - most;
      next = due - most;
    }
    for (; next < due; next++) {
      const i = next % o.count;
      const d = fleet[i]!;
      const s = deviceStream[i]!;
      if (s.destroyed || !s.writable) continue;
      let ts: bigint;
      let wh: bigint;
      let isBad: boolean;
      let signature: Uint8Array;
      if (presigned !== undefined) {
        const r = presigned[next];
        if (r === undefined) break;
        ({ ts, wh, signature } = r);
        isBad = r.bad;
      } else {
        const prev = last.get(d.id);
        const nowUs = BigInt(Date.now()) * 1000n;
        ts = prev !== undefined && prev >= nowUs ? prev + 1n : nowUs;
        const elapsedUs = prev === undefined ? BigInt(Math.round(perDeviceMs * 1000)) : ts - prev;
        last.set(d.id, ts);
        wh = -meters.exportedWh(i, next, elapsedUs);
        isBad = Math.random() < o.badFraction;
        signature = blsSign(d.secretKey, telemetrySigningBytes(chainId, d.id, ts, isBad ? wh - 1n : wh));
      }
      s.write({ device_id: d.id, timestamp_us: ts.toString(), net_energy_wh: wh.toString(), state_of_charge_percent: 50, signature });
      sent++;
      if (isBad) bad++;
      else acks.sent(d.id, ts);
    }
  };
  startedAt = sendFrom;
  window = { ...window, at: startedAt };
  const sendTimer = setInterval(tick, 10);
  const reportTimer = setInterval(() => void report('report'), o.report * 1000);
  await new Promise<void>((resolve) => {
    if (o.seconds !== undefined) setTimeout(resolve, Math.max(0, startedAt + o.seconds * 1000 - Date.now()));
    process.once('SIGINT', () => resolve());
  });
  stop = true;
  clearInterval(sendTimer);
  clearInterval(reportTimer);
  // The sending's last window, shorter than a report period, is reported too: its tail is
  // often the run's (a block that closes an interval near the end).
  if (Date.now() - window.at >= 1000) await report('report');
  // The readings sent last need a few blocks to become final.
  const drainUntil = Date.now() + DRAIN_MS;
  while (acks.pending > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 250));
  acks.close();
  for (const s of streams) s.end();
  await new Promise((r) => setTimeout(r, 200));
  for (const c of clients) c.close();
  const fleetIds = new Set(fleet.map((d) => d.id));
  const onChain = await readingsOnChain(
    rpc,
    fromHeight,
    acks.highestFinalBlock,
    (r) => fleetIds.has(r.deviceId) && BigInt(r.timestampUs) >= BigInt(sendFrom) * 1000n,
  );
  window = { at: startedAt, sent: 0, accepted: acceptedAtStart, final: 0 };
  await report('done', onChain);
}

/**
 * The cross-check of the acks, once, at the end: the readings `ours` counted by successful
 * telemetry batches of validator 0's final blocks after `fromHeight`, once it has the
 * blocks up to `through` (the highest a final ack named: another validator may be a block
 * ahead); null when those are more than MAX_CHECKED_BLOCKS (a long run: too many blocks to
 * fetch), or the node does not answer or catch up.
 */
async function readingsOnChain(
  rpc: RpcClient,
  fromHeight: number,
  through: number,
  ours: (r: { deviceId: string; timestampUs: string }) => boolean,
): Promise<number | null> {
  try {
    const deadline = Date.now() + 10_000;
    let head = (await rpc.call<StatusJson>('joule_status')).height;
    while (head < through) {
      if (Date.now() > deadline) return null;
      await new Promise((r) => setTimeout(r, 100));
      head = (await rpc.call<StatusJson>('joule_status')).height;
    }
    if (head - fromHeight > MAX_CHECKED_BLOCKS) return null;
    let n = 0;
    for (let h = fromHeight + 1; h <= head; h++) {
      const b = await rpc.call<BlockJson | null>('joule_getBlock', [h, true]);
      if (b === null) return null;
      for (const t of b.transactions as TransactionJson[]) {
        if (t.type !== TxType.telemetryBatch || !t.receipt.success) continue;
        // A device the batch skipped (changed since its admission) has its readings there, uncounted.
        const skipped = new Set(t.receipt.events.filter((e) => e.type === READINGS_SKIPPED_EVENT).map((e) => e.attributes.device));
        for (const r of (t.body as { readings: { deviceId: string; timestampUs: string }[] }).readings) if (!skipped.has(r.deviceId) && ours(r)) n++;
      }
    }
    return n;
  } catch {
    return null;
  }
}

/**
 * The run's readings, planned and signed before it starts: reading k is due at
 * start + k / rate s, from device k mod count, stamped with its due time; signed in worker
 * threads (cli/commands/presign-worker.ts). The start is set far enough ahead for the
 * signing to finish (timed on a sample first).
 */
async function presignRun(
  o: GrpcSimOptions,
  chainId: string,
  fleet: readonly FleetDevice[],
  say: (line: string, json: Record<string, unknown>) => void,
): Promise<{ startMs: number; readings: { i: number; ts: bigint; wh: bigint; bad: boolean; signature: Uint8Array }[] }> {
  const total = Math.ceil(o.rate * o.seconds!);
  const threads = Math.max(1, Math.min(4, availableParallelism()));
  const sampleAt = performance.now();
  for (let j = 0; j < 32; j++) blsSign(fleet[0]!.secretKey, telemetrySigningBytes(chainId, 'sample', BigInt(j), 0n));
  const perSignMs = (performance.now() - sampleAt) / 32;
  // Generous: the threads share the machine with the nodes (and whatever else runs on it).
  const startMs = Date.now() + Math.ceil((2.5 * total * perSignMs) / threads) + 5000;
  const periodUs = 1_000_000 / o.rate;
  const perDeviceUs = BigInt(Math.round(periodUs * o.count));
  const startUs = BigInt(startMs) * 1000n;
  const meters = new FleetMeters(DEVICE_POWER_W);
  const readings = Array.from({ length: total }, (_, k) => {
    const i = k % o.count;
    const ts = startUs + BigInt(Math.round(k * periodUs));
    const wh = -meters.exportedWh(i, k, perDeviceUs);
    return { i, ts, wh, bad: Math.random() < o.badFraction, signature: new Uint8Array() as Uint8Array };
  });
  say(`signing ${total} readings in ${threads} threads (about ${Math.round((total * perSignMs) / threads / 1000)} s)…`, {
    event: 'presigning',
    readings: total,
    threads,
  });
  const keys = fleet.map((d) => d.secretKey);
  const share = Math.ceil(total / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const mine = readings.slice(t * share, (t + 1) * share);
      const job = {
        keys,
        readings: mine.map((r) => ({ device: r.i, message: telemetrySigningBytes(chainId, fleet[r.i]!.id, r.ts, r.bad ? r.wh - 1n : r.wh) })),
      };
      return new Promise<Uint8Array[]>((resolve, reject) => {
        const w = new Worker(new URL('./presign-worker.ts', import.meta.url), { workerData: job });
        w.once('message', (sigs: Uint8Array[]) => {
          resolve(sigs);
          void w.terminate();
        });
        w.once('error', reject);
      });
    }),
  );
  parts.flat().forEach((sig, k) => {
    readings[k]!.signature = sig;
  });
  if (Date.now() > startMs)
    say('signing took longer than planned: the first readings are late (skipped as the simulator falling behind)', { event: 'presign-late' });
  return { startMs, readings };
}
