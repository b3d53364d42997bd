import { afterAll, describe, expect, it } from 'vitest';
import { type NodeProcess, runCli, startTestNetwork, stopTestNetworks } from './helpers/cluster.ts';
import { rpc, waitFor } from './helpers/net.ts';

interface BlockJson {
  height: number;
  validatorSetHash: string;
  certificate: { signerIndexes: number[] } | null;
}
const height = async (url: string) => (await rpc<{ height: number }>(url, 'joule_status', [], 2000)).height;

/**
 * Two of four validators are lost for good: no quorum, and no way to vote them out. The
 * operator stops the two survivors, runs `joule validators transition` on their homes, and
 * restarts them: from the transition height they alone certify blocks.
 */
describe('emergency validator-set transition', () => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    await stopTestNetworks(procs);
  });

  it('refuses without confirmation, then lets the survivors finalise again', async () => {
    const net = await startTestNetwork(procs, { validators: 4, accounts: 1, params: { blockPeriodMs: 300, emptyBlockPeriodMs: 300, requestTimeoutMs: 1000 } });
    await waitFor('a few blocks', async () => ((await height(net.nodes[0]!.rpcUrl)) >= 3 ? true : undefined), 60_000, 200);
    await Promise.all([procs[2]!.kill('SIGKILL'), procs[3]!.kill('SIGKILL')]);
    await new Promise((r) => setTimeout(r, 2000));
    const stalled = await height(net.nodes[0]!.rpcUrl);
    expect(await procs[0]!.kill('SIGTERM')).toBe(0);
    expect(await procs[1]!.kill('SIGTERM')).toBe(0);

    const homes = ['--home', net.nodes[0]!.home, '--home', net.nodes[1]!.home];
    const refused = await runCli(['validators', 'transition', ...homes]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/CONFIRMATION_REQUIRED/);

    const done = await runCli(['validators', 'transition', ...homes, '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/validator set becomes \[validator-0, validator-1\]|validator set becomes \[validator-1, validator-0\]/);

    await Promise.all([procs[0]!.start(60_000), procs[1]!.start(60_000)]);
    const url = net.nodes[0]!.rpcUrl;
    await waitFor('blocks after the transition', async () => ((await height(url)) >= stalled + 4 ? true : undefined), 60_000, 200);
    const before = await rpc<BlockJson>(url, 'joule_getBlock', [stalled]);
    const after = await rpc<BlockJson>(url, 'joule_getBlock', [stalled + 2]);
    expect(after.validatorSetHash).not.toBe(before.validatorSetHash);
    expect(after.certificate!.signerIndexes.every((i) => i < 2)).toBe(true);
    const status = await rpc<{ validatorCount: number }>(url, 'joule_status');
    expect(status.validatorCount).toBe(2);
    const other = await rpc<BlockJson>(net.nodes[1]!.rpcUrl, 'joule_getBlock', [stalled + 2]);
    expect(other.validatorSetHash).toBe(after.validatorSetHash);
  }, 240_000);
});
