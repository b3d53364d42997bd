import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PARAMS, type ChainParams } from '../../core/params.ts';
import { generateDevnet, writeDevnetFiles, type Devnet } from '../../genesis/index.ts';
import { initHome } from '../../node/home.ts';
import { peerIdFromIdentityKey } from '../../p2p/identity.ts';
import { freePort, rpc, waitFor } from './net.ts';

export const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

export interface TestNodeHome {
  readonly name: string;
  readonly home: string;
  readonly rpcUrl: string;
  readonly metricsUrl: string;
  readonly p2p: string;
  readonly peerId: string;
}

export interface TestNetwork {
  readonly dir: string;
  readonly devnet: Devnet;
  readonly genesisFile: string;
  readonly nodes: TestNodeHome[];
  readonly accountKeyFiles: string[];
}

/** Writes a devnet (insecure keys) and one node home per validator, on free loopback ports. */
export async function createTestNetwork(opts: { validators: number; accounts: number; params?: Partial<ChainParams> }): Promise<TestNetwork> {
  const dir = await mkdtemp(join(tmpdir(), 'joule-test-'));
  const devnet = generateDevnet({ validators: opts.validators, accounts: opts.accounts, params: { ...DEFAULT_PARAMS, ...opts.params } });
  const files = await writeDevnetFiles(dir, devnet, { insecure: true });
  const ports = [];
  for (let i = 0; i < opts.validators; i++) ports.push({ p2p: await freePort(), rpc: await freePort(), metrics: await freePort(), grpc: await freePort() });
  const peerIds = devnet.validatorKeys.map((v) => peerIdFromIdentityKey(v.identity.publicKey));
  const p2pAddrs = ports.map((p, i) => `/ip4/127.0.0.1/tcp/${p.p2p}/p2p/${peerIds[i]}`);
  const nodes: TestNodeHome[] = [];
  for (const [i, v] of files.validators.entries()) {
    const home = join(dir, v.name);
    await initHome({
      home,
      genesisFile: files.genesisFile,
      name: v.name,
      role: 'validator',
      identityKeyFile: v.identityKeyFile,
      consensusKeyFile: v.consensusKeyFile,
      ports: ports[i]!,
      peers: p2pAddrs.filter((_, j) => j !== i),
    });
    nodes.push({ name: v.name, home, rpcUrl: `http://127.0.0.1:${ports[i]!.rpc}`, metricsUrl: `http://127.0.0.1:${ports[i]!.metrics}`, p2p: p2pAddrs[i]!, peerId: peerIds[i]! });
  }
  return { dir, devnet, genesisFile: files.genesisFile, nodes, accountKeyFiles: files.accounts.map((a) => a.keyFile) };
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
