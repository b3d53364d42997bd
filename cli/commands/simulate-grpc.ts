import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClientDuplexStream, credentials, loadPackageDefinition, type Client, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { blsSign } from '../../core/keys.ts';
import type { BlockJson, StatusJson, TransactionJson } from '../../core/rpc-json.ts';
import { telemetrySigningBytes } from '../../core/telemetry.ts';
import { fleetDevice, type FleetDevice } from '../fleet.ts';
import { CliError, RpcClient } from '../rpc-client.ts';
import { senderContext } from './sender.ts';

/**
 * `joule simulate devices --devnet DIR`: a fleet of devices streaming signed readings over
 * gRPC (energysettlement.v1.EnergyDeviceStream/ConnectDevice, the device contract) to the
 * devnet's validators. Device i streams to validator i mod n, and is registered (once) by
 * that validator's aggregator account (DIR/keys/validator-<i>/aggregator.key, which the
 * devnet makes the operator of its devices). `--rate` readings a second for the whole
 * fleet, `--bad-fraction` of them signed over other bytes (the node drops them).
 *
 * Every `--report` seconds, and at the end, it prints readings/s sent, acknowledged (the
 * nodes' joule_grpc_readings_total{outcome="accepted"}: the device wire itself carries only
 * GridCommand), final (found in final telemetry batches of validator 0's blocks) and the
 * send-to-final latency p50 / p99 of the readings final in that window.
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
  readonly register: (ctx: Awaited<ReturnType<typeof senderContext>>, fleet: readonly FleetDevice[]) => Promise<void>;
}

interface DevnetFileNode {
  name: string;
  rpc: string;
  grpc: string;
  metrics: string;
  home: string;
}

const PROTO = fileURLToPath(new URL('../../proto/energysettlement/v1/device.proto', import.meta.url));
/** Streams per gRPC connection: below the server's default limit of 128. */
const STREAMS_PER_CHANNEL = 100;

function deviceClientConstructor(): ServiceClientConstructor {
  const pkg = loadSync(PROTO, { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true });
  return (loadPackageDefinition(pkg) as unknown as { energysettlement: { v1: { EnergyDeviceStream: ServiceClientConstructor } } }).energysettlement.v1
    .EnergyDeviceStream;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function acceptedReadings(nodes: readonly DevnetFileNode[]): Promise<number> {
  let total = 0;
  for (const n of nodes) {
    try {
      const text = await (await fetch(n.metrics, { signal: AbortSignal.timeout(2000) })).text();
      for (const line of text.split('\n'))
        if (line.startsWith('joule_grpc_readings_total{') && line.includes('outcome="accepted"')) total += Number(line.split(' ').at(-1));
    } catch {
      // a node down or busy: counted at the next report
    }
  }
  return total;
}

export async function simulateOverGrpc(o: GrpcSimOptions): Promise<void> {
  let file: { chainId: string; nodes: DevnetFileNode[] };
  try {
    file = JSON.parse(readFileSync(join(o.devnet, 'devnet.json'), 'utf8')) as typeof file;
  } catch (e) {
    throw new CliError('INVALID_PARAMS', `cannot read ${join(o.devnet, 'devnet.json')} (${(e as Error).message}): is it a devnet directory?`, 'devnet');
  }
  const nodes = file.nodes;
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
  const fleet = Array.from({ length: o.count }, (_, i) => fleetDevice(o.seed, o.prefix, i));
  // Registration, by each validator's aggregator account, of the devices that stream to it.
  for (const [v, node] of nodes.entries()) {
    const mine = fleet.filter((_, i) => i % nodes.length === v);
    if (mine.length === 0) continue;
    const key = join(node.home, 'keys', 'aggregator.key');
    const ctx = await senderContext({ key, rpc: node.rpc });
    await o.register(ctx, mine);
  }
  const chainId = file.chainId;
  const Ctor = deviceClientConstructor();
  const clients: Client[] = [];
  const streams: ClientDuplexStream<unknown, unknown>[] = [];
  const sentAt = new Map<string, number>();
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
  // Finals: telemetry batches in final blocks of validator 0.
  const rpc = new RpcClient(nodes[0]!.rpc);
  let scanned = (await rpc.call<StatusJson>('joule_status')).height;
  let latencies: number[] = [];
  const all: number[] = [];
  let final = 0;
  const scan = async (): Promise<void> => {
    const head = (await rpc.call<StatusJson>('joule_status')).height;
    for (let h = scanned + 1; h <= head; h++) {
      const b = await rpc.call<BlockJson | null>('joule_getBlock', [h, true]);
      if (b === null) break;
      const at = Date.now();
      for (const t of b.transactions as TransactionJson[]) {
        if (t.type !== 20 || !t.receipt.success) continue;
        for (const r of (t.body as { readings: { deviceId: string; timestampUs: string }[] }).readings) {
          const k = `${r.deviceId}/${r.timestampUs}`;
          const s = sentAt.get(k);
          if (s === undefined) continue;
          sentAt.delete(k);
          final++;
          latencies.push(at - s);
          all.push(at - s);
        }
      }
      scanned = h;
    }
  };
  const startedAt = Date.now();
  const acceptedAtStart = await acceptedReadings(nodes);
  let window = { at: startedAt, sent: 0, accepted: acceptedAtStart, final: 0 };
  const report = async (label: string): Promise<void> => {
    const now = Date.now();
    const accepted = await acceptedReadings(nodes);
    const secs = Math.max(0.001, (now - window.at) / 1000);
    const sorted = (label === 'done' ? all : latencies).sort((a, b) => a - b);
    const fig = {
      event: label,
      seconds: Number(((now - startedAt) / 1000).toFixed(1)),
      sentPerSecond: Math.round((sent - window.sent) / secs),
      acknowledgedPerSecond: Math.round((accepted - window.accepted) / secs),
      finalPerSecond: Math.round((final - window.final) / secs),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      sent,
      bad,
      acknowledged: accepted - acceptedAtStart,
      final,
      commands,
      skipped,
      streamsEnded: { ...ended },
    };
    say(
      `${label === 'report' ? `t=${fig.seconds}s` : 'total'}: sent ${fig.sentPerSecond}/s, acknowledged ${fig.acknowledgedPerSecond}/s, final ${fig.finalPerSecond}/s, send-to-final p50 ${fig.p50Ms ?? '-'} ms p99 ${fig.p99Ms ?? '-'} ms (sent ${sent}, bad ${bad}, final ${final}, commands ${commands}${skipped > 0 ? `, ${skipped} skipped: the simulator fell behind` : ''}${Object.keys(ended).length > 0 ? `, streams ended: ${JSON.stringify(ended)}` : ''})`,
      fig,
    );
    window = { at: now, sent, accepted, final };
    latencies = [];
  };
  // Sending: the fleet's readings spread evenly over each second.
  const perDeviceMs = (1000 * o.count) / o.rate;
  let next = 0;
  let stop = false;
  const tick = (): void => {
    if (stop) return;
    const now = Date.now();
    const due = Math.floor(((now - startedAt) / perDeviceMs) * o.count);
    // A simulator that fell behind (signing is its own cost) skips what it missed rather
    // than sending a burst of readings stamped now but delivered late.
    const most = Math.max(1, Math.ceil(o.rate / 20));
    if (due - next > most) {
      skipped += due - next - most;
      next = due - most;
    }
    for (; next < due; next++) {
      const i = next % o.count;
      const d = fleet[i]!;
      const s = deviceStream[i]!;
      if (s.destroyed || !s.writable) continue;
      const prev = last.get(d.id);
      const nowUs = BigInt(Date.now()) * 1000n;
      const ts = prev !== undefined && prev >= nowUs ? prev + 1n : nowUs;
      const elapsedUs = prev === undefined ? BigInt(Math.round(perDeviceMs * 1000)) : ts - prev;
      last.set(d.id, ts);
      const wh = -((4000n * BigInt(60 + ((i * 37 + next) % 41)) * elapsedUs) / (100n * 3_600_000_000n));
      const isBad = Math.random() < o.badFraction;
      const signature = blsSign(d.secretKey, telemetrySigningBytes(chainId, d.id, ts, isBad ? wh - 1n : wh));
      s.write({ device_id: d.id, timestamp_us: ts.toString(), net_energy_wh: wh.toString(), state_of_charge_percent: 50, signature });
      sent++;
      if (isBad) bad++;
      else sentAt.set(`${d.id}/${ts}`, now);
    }
  };
  const sendTimer = setInterval(tick, 10);
  let scanning = Promise.resolve();
  const scanTimer = setInterval(() => {
    scanning = scanning.then(scan).catch(() => {});
  }, 250);
  const reportTimer = setInterval(() => void report('report'), o.report * 1000);
  await new Promise<void>((resolve) => {
    if (o.seconds !== undefined) setTimeout(resolve, o.seconds * 1000);
    process.once('SIGINT', () => resolve());
  });
  stop = true;
  clearInterval(sendTimer);
  clearInterval(reportTimer);
  // The readings sent last need a few blocks to become final.
  const drainUntil = Date.now() + 15_000;
  while (sentAt.size > 0 && Date.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 250));
    if ([...sentAt.values()].every((t) => t < Date.now() - 15_000)) break;
  }
  clearInterval(scanTimer);
  await scanning;
  for (const s of streams) s.end();
  await new Promise((r) => setTimeout(r, 200));
  for (const c of clients) c.close();
  window = { at: startedAt, sent: 0, accepted: acceptedAtStart, final: 0 };
  await report('done');
}
