import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ip, ipSync } from './ip.ts';
import { NetSandbox, removeStale } from './sandbox.ts';

const SANDBOX = fileURLToPath(new URL('./sandbox.ts', import.meta.url));

/** Runs a module snippet in a fresh node process; resolves with its exit and output. */
function runScript(
  code: string,
  opts: { uid?: number; env?: NodeJS.ProcessEnv; onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void } = {},
): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: opts.env ?? process.env,
      uid: opts.uid,
      gid: opts.uid,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.onStdout?.(stdout, (s) => child.kill(s));
    });
    child.once('exit', (code, signal) => resolve({ code, signal, stdout }));
  });
}

const namespaces = () =>
  ipSync(['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.length > 0);
const links = () =>
  ipSync(['-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)[:@]/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);

describe('fault sandbox: namespaces are created, refused with a reason, and always removed', () => {
  it('fails, saying why, when not run as root', async () => {
    const script = `import { NetSandbox } from ${JSON.stringify(SANDBOX)};
      try { await NetSandbox.create(2); console.log('created'); } catch (e) { console.log(e.message); }`;
    // As root, try it as nobody; otherwise this process already is not root.
    const out =
      process.getuid?.() === 0
        ? (await runScript(script, { uid: 65534 })).stdout
        : await NetSandbox.create(2).then(
            () => 'created',
            (e: Error) => e.message,
          );
    expect(out).toMatch(/cannot run the fault-injection tests: .*needs root; this process runs as uid/);
  });

  it('fails, saying why, when iproute2 is missing', async () => {
    const out = await runScript(
      `import { NetSandbox } from ${JSON.stringify(SANDBOX)};
      try { await NetSandbox.create(2); console.log('created'); } catch (e) { console.log(e.message); }`,
      { env: { ...process.env, PATH: '/nonexistent' } },
    );
    expect(out.stdout).toMatch(/iproute2's `ip` is not on PATH/);
  });

  it.each(['bridge', 'route'] as const)('cuts the data plane into groups and heals it (%s cut), and removes everything on destroy', async (cut) => {
    const sandbox = await NetSandbox.create(3, { cut });
    try {
      const mine = namespaces().filter((n) => n.startsWith(`jft-${process.pid}-`));
      expect(mine.sort()).toEqual(sandbox.nodes.map((n) => n.ns).sort());
      // The test process reaches each node's control address: the bridge carries its subnet.
      expect(await ip(['route', 'get', sandbox.nodes[0]!.ctlIp])).toContain(`dev jft${process.pid.toString(36)}b`);
      expect(await sandbox.canConnect(2, 0)).toBe(true);
      await sandbox.partition([[0, 1], [2]]);
      expect(await sandbox.canConnect(1, 0), 'within a group').toBe(true);
      expect(await sandbox.canConnect(2, 0), 'across groups').toBe(false);
      expect(await sandbox.canConnect(0, 2), 'across groups, the other way').toBe(false);
      await sandbox.heal();
      expect(await sandbox.canConnect(2, 0), 'healed').toBe(true);
      await sandbox.isolate(1);
      expect(await sandbox.canConnect(0, 1)).toBe(false);
      expect(await sandbox.canConnect(2, 0)).toBe(true);
    } finally {
      await sandbox.destroy();
    }
    expect(namespaces().filter((n) => n.startsWith(`jft-${process.pid}-`))).toEqual([]);
    expect(links().filter((l) => l.startsWith(`jft${process.pid.toString(36)}`))).toEqual([]);
  });

  it.each(['exit', 'SIGINT'] as const)('removes its namespaces and links when the process ends by %s without destroy()', async (how) => {
    const script = `import { NetSandbox } from ${JSON.stringify(SANDBOX)};
      const s = await NetSandbox.create(2);
      console.log('ready ' + process.pid);
      ${how === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}`;
    const run = await runScript(script, { onStdout: (text, kill) => text.includes('ready') && how === 'SIGINT' && kill('SIGINT') });
    const pid = Number(/ready (\d+)/.exec(run.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(namespaces().filter((n) => n.startsWith(`jft-${pid}-`))).toEqual([]);
    expect(links().filter((l) => l.startsWith(`jft${pid.toString(36)}`))).toEqual([]);
  });

  it('removes leftovers of a run whose process is gone, and leaves those of live ones', async () => {
    const dead = await new Promise<number>((resolve) => {
      const c = spawn('true');
      c.once('exit', () => resolve(c.pid!));
    });
    const live = process.ppid; // some other process that is alive
    await ip(['netns', 'add', `jft-${dead}-0`]);
    await ip(['link', 'add', `jft${dead.toString(36)}b`, 'type', 'bridge']);
    await ip(['link', 'add', `jft${live.toString(36)}b`, 'type', 'bridge']);
    try {
      removeStale();
      expect(namespaces()).not.toContain(`jft-${dead}-0`);
      expect(links()).not.toContain(`jft${dead.toString(36)}b`);
      expect(links()).toContain(`jft${live.toString(36)}b`);
    } finally {
      ipSync(['netns', 'del', `jft-${dead}-0`]);
      ipSync(['link', 'del', `jft${dead.toString(36)}b`]);
      ipSync(['link', 'del', `jft${live.toString(36)}b`]);
    }
  });
});
