import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainParams } from '../../core/params.ts';
import { createLocalNetwork, type LocalNetwork, type LocalNode } from '../../node/home/local-network.ts';
import { freePort } from './net.ts';

import { NodeProcess } from '../../cli/node-process.ts';

export { NodeProcess };

export const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

export type TestNodeHome = Pick<LocalNode, 'name' | 'home' | 'rpcUrl' | 'metricsUrl' | 'p2p' | 'peerId'>;
export type TestNetwork = LocalNetwork;

const created: string[] = [];

/** A local network in a fresh temp dir on free loopback ports; removeTestNetworks() deletes it. */
export async function createTestNetwork(opts: { validators: number; accounts: number; params?: Partial<ChainParams> }): Promise<TestNetwork> {
  const dir = await mkdtemp(join(tmpdir(), 'joule-test-'));
  created.push(dir);
  return createLocalNetwork({
    dir,
    ...opts,
    ports: async () => ({ p2p: await freePort(), rpc: await freePort(), metrics: await freePort(), grpc: await freePort() }),
  });
}

/** Removes every network this test file created (call in afterAll, after its nodes stopped). */
export async function removeTestNetworks(): Promise<void> {
  for (const dir of created.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** A test network with each validator started as its own OS process; they join `procs`, which the file stops in afterAll (stopTestNetworks). */
export async function startTestNetwork(procs: NodeProcess[], opts: Parameters<typeof createTestNetwork>[0]): Promise<TestNetwork> {
  const net = await createTestNetwork(opts);
  const started = net.nodes.map((n) => new NodeProcess(n));
  procs.push(...started);
  await Promise.all(started.map((p) => p.start(60_000)));
  return net;
}

/** Stops `procs` and removes every network this test file created: a process test's afterAll. */
export async function stopTestNetworks(procs: readonly NodeProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => p.kill()));
  await removeTestNetworks();
}

/** Runs the CLI as a real process; resolves with its exit code and output. */
export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`joule ${args.join(' ')} timed out; stdout: ${stdout} stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
