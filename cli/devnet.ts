import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalNetwork } from '../node/home/local-network.ts';
import { type DevnetFile, devnetFileOf, readDevnetFile, writeDevnetFile } from './devnet-file.ts';
import { NodeProcess } from './node-process.ts';
import { withProgress } from './progress.ts';

export interface DevnetOptions {
  readonly home: string | undefined;
  readonly validators: number;
  readonly accounts: number;
  readonly basePort: number;
  readonly blockPeriodMs: number;
  /** Print blocks until Ctrl-C, then stop the nodes; otherwise leave them running. */
  readonly follow: boolean;
  /** With follow: devices streaming readings over gRPC (`joule simulate devices --devnet`); 0 for none. */
  readonly fleet: number;
  /** With follow and a fleet: a small market of the fleet's owners and the funded accounts (`joule simulate market --devnet`). */
  readonly market: boolean;
}

function portsOf(base: number, i: number) {
  return { p2p: base + 10 * i, rpc: base + 10 * i + 1, metrics: base + 10 * i + 2, grpc: base + 10 * i + 3 };
}

async function createDevnet(home: string, o: DevnetOptions): Promise<DevnetFile> {
  const net = await withProgress(
    'writing devnet keys',
    (progress) =>
      createLocalNetwork({
        dir: home,
        validators: o.validators,
        accounts: o.accounts,
        params: { blockPeriodMs: o.blockPeriodMs, emptyBlockPeriodMs: o.blockPeriodMs },
        ports: (i) => portsOf(o.basePort, i),
        onKey: (_f, done, total) => progress.update(`writing devnet keys ${done}/${total}`),
      }),
    () => `${o.validators} validators' and ${o.accounts} accounts' keys written`,
  );
  console.warn('devnet keys are INSECURE (stored unencrypted): for local testing only');
  return devnetFileOf(net);
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
          const b = (await rpcCall(node.rpc, 'joule_getBlock', [h, true])) as {
            height: number;
            hash: string;
            txCount: number;
            timestamp: number;
            proposer: string;
            transactions: { type: number; body: { readings?: unknown[] } }[];
          } | null;
          if (b === null) break;
          if (printed < 0 && waiting > 0) process.stdout.write('\n');
          const readings = b.transactions.reduce((n, t) => n + (t.type === 20 ? (t.body.readings?.length ?? 0) : 0), 0);
          console.log(
            `block ${String(b.height).padStart(6)}  ${b.hash.slice(0, 14)}…  txs ${String(b.txCount).padStart(5)}  ${readings > 0 ? `readings ${String(readings).padStart(5)}  ` : ''}${new Date(b.timestamp).toISOString()}  via ${node.name}`,
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

/** Every few seconds, the energy tokens minted so far (the first page of the listing): telemetry becoming tokens. */
async function followTokens(file: DevnetFile, stopped: () => boolean): Promise<void> {
  let seen = 0;
  while (!stopped()) {
    await new Promise((r) => setTimeout(r, 5000));
    try {
      const page = (await rpcCall(file.nodes[0]!.rpc, 'joule_listEnergyUtxos', [{ limit: 100 }])) as {
        utxos: { wh: string; provenance: { deviceId: string; intervalStartMs: number } }[];
        nextCursor: string | null;
      };
      if (page.utxos.length > seen) {
        const wh = page.utxos.reduce((s, u) => s + BigInt(u.wh), 0n);
        const latest = page.utxos.at(-1)!;
        console.log(
          `energy tokens: ${page.utxos.length}${page.nextCursor === null ? '' : '+'} minted, ${wh} Wh (e.g. ${latest.wh} Wh of ${latest.provenance.deviceId}, interval ${new Date(latest.provenance.intervalStartMs).toISOString()})`,
        );
        seen = page.utxos.length;
      }
    } catch {
      // node 0 busy or down: try again
    }
  }
}

/** A `joule simulate ...` child process beside the devnet, its lines prefixed with `label`. */
function startSimulator(label: string, args: readonly string[]): ChildProcess {
  const cli = fileURLToPath(new URL('./main.ts', import.meta.url));
  const child = spawn(process.execPath, [cli, 'simulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((l) => l.length > 0)
      .forEach((l) => console.log(`${label}: ${l}`));
  child.stdout?.on('data', prefix);
  child.stderr?.on('data', prefix);
  return child;
}

export async function runDevnet(o: DevnetOptions): Promise<void> {
  const home = o.home ?? (await mkdtemp(join(tmpdir(), 'joule-devnet-')));
  let file: DevnetFile;
  if (existsSync(join(home, 'devnet.json'))) {
    file = readDevnetFile(home);
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
  console.log(`endpoints: ${await writeDevnetFile(home, file)}`);
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
  const simulators: ChildProcess[] = [];
  if (o.fleet > 0) {
    console.log(
      `a fleet of ${o.fleet} devices streams signed readings over gRPC (plaintext, loopback: a devnet only) to the validators; every 30 s an interval settles and their export becomes energy tokens (--fleet 0: none)`,
    );
    simulators.push(
      startSimulator('fleet', [
        'devices',
        '--devnet',
        home,
        '--count',
        String(o.fleet),
        '--rate',
        String(Math.max(1, Math.ceil(o.fleet / 2))),
        '--report',
        '10',
      ]),
    );
    if (o.market) {
      console.log(
        "a market: every 30 s the fleet's owners offer its export and the funded accounts bid in the next market of zone SIM; its clearing is shown, and the trades settle against the metered export (--no-market: none)",
      );
      simulators.push(startSimulator('market', ['market', '--devnet', home]));
    }
  }
  await Promise.race([Promise.all([followBlocks(file, () => stopping), o.fleet > 0 ? followTokens(file, () => stopping) : undefined]), done]);
  for (const c of simulators) c.kill('SIGTERM');
  await done;
  console.log(`devnet stopped; its data stays in ${home} (run again with --home ${home} to resume)`);
}
