import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainParams } from '../../core/params.ts';
import { createLocalNetwork, type LocalNetwork, type LocalNode } from '../../node/local-network.ts';
import { freePort, rpc, waitFor } from './net.ts';

export const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

export type TestNodeHome = Pick<LocalNode, 'name' | 'home' | 'rpcUrl' | 'metricsUrl' | 'p2p' | 'peerId'>;
export type TestNetwork = LocalNetwork;

/** A local network in a fresh temp dir on free loopback ports. */
export async function createTestNetwork(opts: { validators: number; accounts: number; params?: Partial<ChainParams> }): Promise<TestNetwork> {
  const dir = await mkdtemp(join(tmpdir(), 'joule-test-'));
  return createLocalNetwork({
    dir,
    ...opts,
    ports: async () => ({ p2p: await freePort(), rpc: await freePort(), metrics: await freePort(), grpc: await freePort() }),
  });
}

/** A `joule start` OS process, logging into its home's node.log. */
export class NodeProcess {
  readonly node: TestNodeHome;
  private child: ChildProcess | undefined;

  constructor(node: TestNodeHome) {
    this.node = node;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and waits until its RPC answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    const log = openSync(join(this.node.home, 'node.log'), 'a');
    const child = spawn(process.execPath, [CLI, 'start', '--home', this.node.home], { stdio: ['ignore', log, log] });
    this.child = child;
    await waitFor(`${this.node.name} RPC`, async () => {
      if (child.exitCode !== null) throw new Error(`${this.node.name} exited with ${child.exitCode}: ${this.logTail()}`);
      return rpc(this.node.rpcUrl, 'joule_status', [], 1000);
    }, timeoutMs, 100);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill(signal);
    });
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(join(this.node.home, 'node.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

/** Runs the CLI as a real process; resolves with its exit code and output. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
