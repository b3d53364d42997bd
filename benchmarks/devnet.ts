/**
 * Finalized-throughput benchmark: a local network of N validator processes, loaded by a
 * separate load-generator process through JSON-RPC. Reports finalized tx/s and
 * submit-to-final latency next to the machine's ceiling measured in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeProcess } from '../cli/node-process.ts';
import { createLocalNetwork } from '../node/home/local-network.ts';
import { freePort } from '../test/helpers/net.ts';

export interface DevnetBenchOptions {
  readonly validators: number;
  readonly accounts: number;
  readonly rate: number;
  readonly seconds: number;
  readonly blockPeriodMs: number;
}

export interface LoadResult {
  targetRate: number;
  sent: number;
  rejected: number;
  rejectCodes: Record<string, number>;
  finalized: number;
  unfinalized: number;
  finalizedPerSecond: number;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
}

const LOADGEN = fileURLToPath(new URL('./loadgen.ts', import.meta.url));

function runLoadgen(args: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOADGEN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`load generator exited with ${code}: ${out}`));
      try {
        resolve(JSON.parse(line) as LoadResult);
      } catch {
        reject(new Error(`load generator printed no result: ${out}`));
      }
    });
  });
}

export async function runDevnetBenchmark(o: DevnetBenchOptions): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'joule-bench-'));
  const net = await createLocalNetwork({
    dir,
    validators: o.validators,
    accounts: o.accounts,
    params: { blockPeriodMs: o.blockPeriodMs, emptyBlockPeriodMs: o.blockPeriodMs },
    ports: async () => ({ p2p: await freePort(), rpc: await freePort(), metrics: await freePort(), grpc: await freePort() }),
  });
  const procs = net.nodes.map((n) => new NodeProcess(n));
  try {
    await Promise.all(procs.map((p) => p.start(60_000)));
    return await runLoadgen([
      '--keys',
      join(dir, 'keys'),
      '--rpc',
      net.nodes.map((n) => n.rpcUrl).join(','),
      '--rate',
      String(o.rate),
      '--seconds',
      String(o.seconds),
    ]);
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const r = await runDevnetBenchmark({ validators: 1, accounts: 200, rate: 3000, seconds: 20, blockPeriodMs: 1000 });
  console.log(JSON.stringify(r, null, 2));
}
