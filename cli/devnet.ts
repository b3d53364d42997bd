import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalNetwork } from '../node/home/local-network.ts';
import { NodeProcess } from './node-process.ts';

export interface DevnetOptions {
  readonly home: string | undefined;
  readonly validators: number;
  readonly accounts: number;
  readonly basePort: number;
  readonly blockPeriodMs: number;
  /** Print blocks until Ctrl-C, then stop the nodes; otherwise leave them running. */
  readonly follow: boolean;
}

export interface DevnetNode {
  name: string;
  rpc: string;
  grpc: string;
  p2p: string;
  metrics: string;
  home: string;
  pid: number | null;
}

export interface DevnetFile {
  chainId: string;
  nodes: DevnetNode[];
}

function portsOf(base: number, i: number) {
  return { p2p: base + 10 * i, rpc: base + 10 * i + 1, metrics: base + 10 * i + 2, grpc: base + 10 * i + 3 };
}

async function createDevnet(home: string, o: DevnetOptions): Promise<DevnetFile> {
  const net = await createLocalNetwork({
    dir: home,
    validators: o.validators,
    accounts: o.accounts,
    params: { blockPeriodMs: o.blockPeriodMs, emptyBlockPeriodMs: o.blockPeriodMs },
    ports: (i) => portsOf(o.basePort, i),
    onKey: (_f, done, total) => process.stdout.write(`\rwriting devnet keys ${done}/${total}`),
  });
  process.stdout.write('\n');
  console.warn('devnet keys are INSECURE (stored unencrypted): for local testing only');
  const nodes = net.nodes.map((n) => ({
    name: n.name,
    rpc: n.rpcUrl,
    grpc: `127.0.0.1:${n.ports.grpc}`,
    p2p: n.p2p,
    metrics: `${n.metricsUrl}/metrics`,
    home: n.home,
    pid: null,
  }));
  return { chainId: net.devnet.genesis.chainId, nodes };
}

function alive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function rpcCall(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(2000),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(body.error.message);
  return body.result;
}

/** Prints each new block (from whichever node answers) until `stop` resolves. */
async function followBlocks(file: DevnetFile, stopped: () => boolean): Promise<void> {
  let printed = -1;
  let waiting = 0;
  while (!stopped()) {
    let progressed = false;
    for (const node of file.nodes) {
      try {
        const status = (await rpcCall(node.rpc, 'joule_status')) as { height: number };
        for (let h = Math.max(printed + 1, status.height - 20, 1); h <= status.height; h++) {
          const b = (await rpcCall(node.rpc, 'joule_getBlock', [h])) as {
            height: number;
            hash: string;
            txCount: number;
            timestamp: number;
            proposer: string;
          } | null;
          if (b === null) break;
          if (printed < 0 && waiting > 0) process.stdout.write('\n');
          console.log(
            `block ${String(b.height).padStart(6)}  ${b.hash.slice(0, 14)}…  txs ${String(b.txCount).padStart(5)}  ${new Date(b.timestamp).toISOString()}  via ${node.name}`,
          );
          printed = b.height;
        }
        progressed = true;
        break;
      } catch {
        // this node is down or starting: ask the next one
      }
    }
    if (!progressed && printed < 0) process.stdout.write(`\rwaiting for the nodes to start${'.'.repeat((waiting++ % 3) + 1)}   `);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function runDevnet(o: DevnetOptions): Promise<void> {
  const home = o.home ?? (await mkdtemp(join(tmpdir(), 'joule-devnet-')));
  const manifest = join(home, 'devnet.json');
  let file: DevnetFile;
  if (existsSync(manifest)) {
    file = JSON.parse(readFileSync(manifest, 'utf8')) as DevnetFile;
    console.log(`reusing the devnet in ${home} (${file.nodes.length} validators)`);
  } else {
    console.log(`creating a devnet of ${o.validators} validator(s) in ${home}`);
    file = await createDevnet(home, o);
  }
  const children: NodeProcess[] = [];
  for (const node of file.nodes) {
    if (alive(node.pid)) {
      console.log(`${node.name} already running (pid ${node.pid})`);
      continue;
    }
    const child = new NodeProcess({ name: node.name, home: node.home, rpcUrl: node.rpc });
    child.spawn({ detached: !o.follow });
    node.pid = child.pid ?? null;
    children.push(child);
    console.log(`started ${node.name} pid ${node.pid}  rpc ${node.rpc}  log ${join(node.home, 'node.log')}`);
  }
  await writeFile(manifest, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`endpoints: ${manifest}`);
  if (!o.follow) return;
  console.log('showing blocks; Ctrl-C stops the devnet');
  let stopping = false;
  const done = new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      console.log('\nstopping the devnet…');
      const force = setTimeout(() => children.forEach((c) => void c.kill('SIGKILL')), 15_000);
      void Promise.all(children.map((c) => c.kill('SIGTERM'))).then(() => {
        clearTimeout(force);
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await Promise.race([followBlocks(file, () => stopping), done]);
  await done;
  console.log(`devnet stopped; its data stays in ${home} (run again with --home ${home} to resume)`);
}
