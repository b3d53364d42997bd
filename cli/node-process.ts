import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./main.ts', import.meta.url));

/** What a supervisor needs to know of a node home. */
export interface ProcessNodeHome {
  readonly name: string;
  readonly home: string;
  readonly rpcUrl: string;
}

async function rpcStatus(url: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_status', params: [] }),
    signal: AbortSignal.timeout(1000),
  });
  const body = (await res.json()) as { result?: unknown };
  if (body.result === undefined) throw new Error('no status');
  return body.result;
}

/** A `joule start` OS process, logging into its home's node.log (devnet, tests, benchmarks). */
export class NodeProcess {
  readonly node: ProcessNodeHome;
  private child: ChildProcess | undefined;

  constructor(node: ProcessNodeHome) {
    this.node = node;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Spawns the process without waiting for it. `detached`: it outlives this process (its
   * own process group, not waited for) — `joule devnet --no-follow`.
   */
  spawn(opts: { detached?: boolean } = {}): void {
    const log = openSync(join(this.node.home, 'node.log'), 'a');
    const detached = opts.detached === true;
    this.child = spawn(process.execPath, [CLI, 'start', '--home', this.node.home], { stdio: ['ignore', log, log], detached });
    if (detached) this.child.unref();
  }

  /** Spawns the process and waits until its RPC answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    this.spawn();
    const child = this.child!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${this.node.name} exited with ${child.exitCode}: ${this.logTail()}`);
      try {
        await rpcStatus(this.node.rpcUrl);
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`${this.node.name} did not answer RPC within ${timeoutMs} ms: ${this.logTail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
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
