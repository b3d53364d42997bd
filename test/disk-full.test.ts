import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestNetwork, removeTestNetworks, NodeProcess } from './helpers/cluster.ts';
import { rpc, waitFor } from './helpers/net.ts';

const height = async (url: string) => (await rpc<{ height: number }>(url, 'joule_status')).height;

/** Writes until the file system says ENOSPC (what an operator's full disk looks like to the node). */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 7);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Issue 8 finding 3, with a real full disk: one of 4 validators keeps its LevelDB on a
 * small tmpfs (needs root, as the fault tests do). Filling it makes that node stop with
 * STORAGE_FAILED naming the path and ENOSPC (exit 4), blaming no peer; the other three go
 * on; once space is back a restart (systemd's, here the test's) catches up.
 */
describe('a full disk under one validator', () => {
  const procs: NodeProcess[] = [];
  let mounted: string | undefined;
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    if (mounted !== undefined) execFileSync('umount', [mounted]);
    await removeTestNetworks();
  });

  it('stops it cleanly naming the path and ENOSPC, blames no peer, and it catches up once space is back', async () => {
    const net = await createTestNetwork({ validators: 4, accounts: 1, params: { blockPeriodMs: 200, emptyBlockPeriodMs: 200 } });
    const victim = net.nodes[3]!;
    const data = join(victim.home, 'data');
    mkdirSync(data, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', data]);
    mounted = data;
    for (const n of net.nodes) procs.push(new NodeProcess(n));
    await Promise.all(procs.map((p) => p.start(60_000)));
    const url = net.nodes[0]!.rpcUrl;
    await waitFor('height 5 on the victim', async () => ((await height(victim.rpcUrl)) >= 5 ? true : undefined), 60_000, 200);

    const filler = join(data, 'filler');
    fill(filler);
    const victimProc = procs[3]!;
    await waitFor('the victim to stop', () => (victimProc.running ? undefined : true), 60_000, 200);
    expect(await victimProc.kill()).toBe(4);
    const log = readFileSync(join(victim.home, 'node.log'), 'utf8');
    expect(log).toContain('STORAGE_FAILED');
    expect(log).toContain(data);
    expect(log).toContain('ENOSPC');
    expect(log, "a local disk fault is no peer's fault").not.toMatch(/penalis/);

    // The other three keep finalising without it.
    const atStop = await height(url);
    await waitFor('the other three to finalise 5 more blocks', async () => ((await height(url)) >= atStop + 5 ? true : undefined), 60_000, 200);

    // Space is back: the restarted node catches up with the others.
    rmSync(filler);
    await victimProc.start(60_000);
    const target = await height(url);
    await waitFor('the victim to catch up', async () => ((await height(victim.rpcUrl)) >= target ? true : undefined), 90_000, 200);
  }, 300_000);
});
