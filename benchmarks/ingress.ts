/**
 * Device ingress on the 4-validator devnet: readings/s from `joule simulate devices
 * --devnet --presign` (its own OS process, streaming over gRPC) that become final, with
 * send-to-final p50 / p99, next to the ceiling measured in the same run: 2 cores x blst's
 * aggregate-verify rate per reading / (4 validators + 1 ingress verification). Transfers
 * go to the validators meanwhile (a few a second): the figure beside says how many blocks
 * carrying readings carried a transfer too.
 *
 * Run alone: `npx node benchmarks/ingress.ts [rate] [seconds]`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as blst from '@chainsafe/blst';
import { toHex, utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/hash.ts';
import { addressFromPublicKey } from '../core/keys.ts';
import type { BlockJson, StatusJson, TransactionJson } from '../core/rpc-json.ts';
import { buildTransfer } from '../core/tx/transfer.ts';
import { NodeProcess } from '../cli/node-process.ts';
import { createLocalNetwork } from '../node/home/local-network.ts';
import { freePort } from '../test/helpers/net.ts';
import { cpuRate } from './cpu-rate.ts';

export interface IngressBenchResult {
  readonly offeredPerSecond: number;
  readonly sentPerSecond: number;
  readonly finalPerSecond: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly aggregateVerifyPerSecond: number;
  readonly ceilingPerSecond: number;
  readonly blocksWithReadings: number;
  readonly blocksWithReadingsAndTransfers: number;
  readonly transfersSent: number;
  readonly transfersIncluded: number;
}

/**
 * blst's aggregate-verify rate, readings a second on one core: n distinct keys and messages
 * under one aggregate signature, timed by CPU time (blst spreads one call over every core).
 */
export function aggregateVerifyRate(n = 256, rounds = 4): number {
  const keys = Array.from({ length: n }, (_, i) => blst.SecretKey.fromKeygen(sha256(utf8(`joule-bench/ingress/${i}`))));
  const msgs = keys.map((_, i) => sha256(utf8(`reading ${i}`)));
  const pks = keys.map((k) => k.toPublicKey());
  const sig = blst.aggregateSignatures(keys.map((k, i) => k.sign(msgs[i]!)));
  blst.aggregateVerify(msgs, pks, sig);
  return cpuRate(n * rounds, () => {
    for (let r = 0; r < rounds; r++) if (!blst.aggregateVerify(msgs, pks, sig)) throw new Error('aggregate does not verify');
  }).perCore;
}

async function call<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(body.error.message);
  return body.result as T;
}

export async function runIngressBenchmark(o: { devices: number; rate: number; seconds: number }): Promise<IngressBenchResult> {
  const before = aggregateVerifyRate();
  const dir = await mkdtemp(join(tmpdir(), 'joule-bench-ingress-'));
  const net = await createLocalNetwork({
    dir,
    validators: 4,
    accounts: 4,
    params: { blockPeriodMs: 1000, emptyBlockPeriodMs: 1000 },
    ports: async () => ({ p2p: await freePort(), rpc: await freePort(), metrics: await freePort(), grpc: await freePort() }),
  });
  const procs = net.nodes.map((n) => new NodeProcess(n));
  try {
    await Promise.all(procs.map((p) => p.start(60_000)));
    await writeFile(
      join(dir, 'devnet.json'),
      JSON.stringify({
        chainId: net.devnet.genesis.chainId,
        nodes: net.nodes.map((n) => ({ name: n.name, rpc: n.rpcUrl, grpc: `127.0.0.1:${n.ports.grpc}`, metrics: `${n.metricsUrl}/metrics`, home: n.home })),
      }),
    );
    const startHeight = (await call<StatusJson>(net.nodes[0]!.rpcUrl, 'joule_status')).height;
    // Transfers alongside, from the funded accounts, round robin over the validators.
    const chainId = net.devnet.genesis.chainId;
    const nonces = net.devnet.accountKeys.map(() => 0);
    const sentTransfers: string[] = [];
    let k = 0;
    const transferTimer = setInterval(() => {
      const a = k % nonces.length;
      const key = net.devnet.accountKeys[a]!.keyPair;
      const tx = buildTransfer({ chainId, seed: key.seed, nonce: nonces[a]!++, fee: 25n, to: addressFromPublicKey(key.publicKey), amount: 1n });
      sentTransfers.push(`0x${toHex(tx.hash)}`);
      void call(net.nodes[k % net.nodes.length]!.rpcUrl, 'joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`]).catch(() => {});
      k++;
    }, 250);
    const cli = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
    const args = [cli, 'simulate', 'devices', '--devnet', dir, '--count', String(o.devices), '--rate', String(o.rate), '--seconds', String(o.seconds)];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [...args, '--presign', '--json', '--report', '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
        if (process.env.JOULE_BENCH_VERBOSE !== undefined) process.stderr.write(d);
      });
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`simulator exited with ${code}: ${text}`))));
    });
    clearInterval(transferTimer);
    const done = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((j) => j.event === 'done')!;
    // Blocks of the run: which carried readings, and which of those a transfer too.
    const url = net.nodes[0]!.rpcUrl;
    const head = (await call<StatusJson>(url, 'joule_status')).height;
    let withReadings = 0;
    let withBoth = 0;
    const included = new Set<string>();
    for (let h = startHeight + 1; h <= head; h++) {
      const b = await call<BlockJson>(url, 'joule_getBlock', [h, true]);
      const txs = b.transactions as TransactionJson[];
      for (const t of txs) if (t.type === 1) included.add(t.hash);
      if (txs.some((t) => t.type === 20)) {
        withReadings++;
        if (txs.some((t) => t.type === 1)) withBoth++;
      }
    }
    const after = aggregateVerifyRate();
    const rate = (before + after) / 2;
    const fig = (v: unknown) => (typeof v === 'number' ? v : null);
    // Over the sending window (the simulator's own 'done' rates also count its wait for the last finals).
    return {
      offeredPerSecond: o.rate,
      sentPerSecond: (fig(done.sent) ?? 0) / o.seconds,
      finalPerSecond: (fig(done.final) ?? 0) / o.seconds,
      p50Ms: fig(done.p50Ms),
      p99Ms: fig(done.p99Ms),
      aggregateVerifyPerSecond: rate,
      ceilingPerSecond: (2 * rate) / 5,
      blocksWithReadings: withReadings,
      blocksWithReadingsAndTransfers: withBoth,
      transfersSent: sentTransfers.length,
      transfersIncluded: sentTransfers.filter((h) => included.has(h)).length,
    };
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatIngressBenchmark(r: IngressBenchResult): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  return [
    'device ingress: 4 validator processes on this 2-core machine, devices over gRPC from `joule simulate devices --presign`, block period 1 s',
    `  ceiling  2 cores x blst aggregate-verify ${n(r.aggregateVerifyPerSecond)} readings/s / (4 validators + 1 ingress)   ${n(r.ceilingPerSecond)} readings/s`,
    `  readings final/s (offered ${n(r.offeredPerSecond)}/s, sent ${n(r.sentPerSecond)}/s)         ${n(r.finalPerSecond)} readings/s  (${((100 * r.finalPerSecond) / r.ceilingPerSecond).toFixed(0)} % of ceiling; target 60 %)`,
    `  send-to-final latency p50 / p99                      ${r.p50Ms ?? '-'} / ${r.p99Ms ?? '-'} ms (target p99 < 3 s)`,
    `  transfers alongside: ${r.transfersIncluded}/${r.transfersSent} included; blocks with readings that also carried a transfer: ${r.blocksWithReadingsAndTransfers}/${r.blocksWithReadings}`,
  ].join('\n');
}

if (import.meta.main) {
  const rate = Number(process.argv[2] ?? 400);
  const seconds = Number(process.argv[3] ?? 30);
  console.log(formatIngressBenchmark(await runIngressBenchmark({ devices: 400, rate, seconds })));
}
