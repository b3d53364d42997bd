import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CLI } from '../helpers/cluster.ts';
import type { NetSandbox } from '../faults/sandbox.ts';

/**
 * The "hosts" of the genesis ceremony: each operator is a network namespace of the fault
 * sandbox (its own addresses, test/faults/README.md) with its own directory standing in
 * for its disk. The operator's commands run inside its namespace; the only files that
 * travel between hosts are the ones the ceremony sends (cards, genesis), copied by `send`.
 */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class Host {
  readonly index: number;
  readonly name: string;
  readonly dir: string;
  readonly home: string;
  readonly passphraseFile: string;
  readonly inbox: string;
  private readonly sandbox: NetSandbox;

  constructor(sandbox: NetSandbox, root: string, index: number) {
    this.sandbox = sandbox;
    this.index = index;
    this.name = `dso-${index}`;
    this.dir = join(root, `host-${index}`);
    this.home = join(this.dir, 'joule');
    this.passphraseFile = join(this.dir, 'passphrase');
    this.inbox = join(this.dir, 'inbox');
    mkdirSync(this.inbox, { recursive: true });
    // Each operator has a passphrase of its own.
    writeFileSync(this.passphraseFile, `passphrase of operator ${index} ${Math.random().toString(36).slice(2)}\n`, { mode: 0o600 });
  }

  get ctlIp(): string {
    return this.sandbox.nodes[this.index]!.ctlIp;
  }

  get dataIp(): string {
    return this.sandbox.nodes[this.index]!.dataIp;
  }

  get rpcUrl(): string {
    return `http://${this.ctlIp}:26601`;
  }

  /** `joule ARGS` inside this host's namespace; rejects on a non-zero exit with the output. */
  async cli(args: readonly string[], timeoutMs = 60_000): Promise<CliRun> {
    const r = await this.cliResult(args, timeoutMs);
    if (r.code !== 0) throw new Error(`${this.name}: joule ${args.join(' ')} exited ${r.code}\n${r.stderr}${r.stdout}`);
    return r;
  }

  cliResult(args: readonly string[], timeoutMs = 60_000): Promise<CliRun> {
    const { file, args: argv } = this.sandbox.command(this.index, [process.execPath, CLI, ...args]);
    return new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.JOULE_PASSPHRASE;
      const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name}: joule ${args.join(' ')} timed out\n${stderr}`));
      }, timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Delivers a public file to this host (what e-mail or a shared folder does between organisations). */
  receive(file: string, as: string): string {
    const target = join(this.inbox, as);
    writeFileSync(target, readFileSync(file));
    return target;
  }
}

/** Every regular file under `dir`, with its path relative to `dir`. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}
