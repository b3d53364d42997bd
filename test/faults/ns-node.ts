import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../helpers/cluster.ts';
import { rpc } from '../helpers/net.ts';

/** Where and how one validator of a fault cluster runs. */
export interface NsNodeSpec {
  readonly name: string;
  readonly home: string;
  readonly rpcUrl: string;
  readonly metricsUrl: string;
  /** argv prefix that runs a program inside the node's namespace. */
  readonly wrap: (argv: readonly string[]) => { file: string; args: string[] };
}

/**
 * A `joule start` process inside a network namespace, with the perturbations of a process:
 * SIGKILL, restart, pause (SIGSTOP) and resume (SIGCONT). `ip netns exec` execs the node in
 * place, so the child's pid is the node's and signals reach it directly.
 */
export class NsNode {
  readonly spec: NsNodeSpec;
  private child: ChildProcess | undefined;
  private paused = false;

  constructor(spec: NsNodeSpec) {
    this.spec = spec;
  }

  get name(): string {
    return this.spec.name;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Spawns the node and waits until its RPC answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const log = openSync(join(this.spec.home, 'node.log'), 'a');
    const { file, args } = this.spec.wrap([process.execPath, CLI, 'start', '--home', this.spec.home]);
    const child = spawn(file, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.paused = false;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${this.name} exited (${child.exitCode ?? child.signalCode}) while starting: ${this.logTail()}`);
      try {
        await rpc(this.spec.rpcUrl, 'joule_status', [], 1000);
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`${this.name} did not answer RPC within ${timeoutMs} ms: ${this.logTail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Sends the signal and waits for the process to be gone; resolves at once when it is not running. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      // A stopped process acts on SIGTERM only once continued; SIGKILL needs no help.
      if (this.paused && signal !== 'SIGKILL') child.kill('SIGCONT');
      child.kill(signal);
      this.paused = false;
    });
  }

  pause(): void {
    if (!this.running) throw new Error(`${this.name} is not running`);
    this.child!.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.running) throw new Error(`${this.name} is not running`);
    this.child!.kill('SIGCONT');
    this.paused = false;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(join(this.spec.home, 'node.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}
