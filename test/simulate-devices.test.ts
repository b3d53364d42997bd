import { afterAll, describe, expect, it } from 'vitest';
import { devnetFileOf, writeDevnetFile } from '../cli/devnet-file.ts';
import { type NodeProcess, runCli, startTestNetwork, stopTestNetworks } from './helpers/cluster.ts';

/**
 * `joule simulate devices --devnet DIR` on a real 2-validator devnet (2 OS processes):
 * devices stream to both validators over gRPC, and the simulator learns which readings are
 * final from each validator's acknowledgement stream. Every reading it counts final is on
 * chain and every reading of the run on chain was counted (the end's cross-check agrees),
 * and every good reading sent is accounted for: final, rejected, uncounted or without a final
 * ack; on a healthy devnet none is rejected, the first ones after the registration included.
 */

type Done = {
  event: string;
  sent: number;
  bad: number;
  final: number;
  finalOnChain: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  rejected: Record<string, number>;
  uncounted: Record<string, number>;
  noFinalAck: number;
  ackStreamsEnded: Record<string, number>;
  streamsEnded: Record<string, number>;
};

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('joule simulate devices --devnet', () => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    await stopTestNetworks(procs);
  });

  it("counts as final the readings whose 'final' ack arrived, which are exactly the run's readings on chain", async () => {
    // 1 s blocks, as `npm start`'s: the first readings then go out within the block after the registration's.
    const net = await startTestNetwork(procs, {
      validators: 2,
      accounts: 1,
      params: { blockPeriodMs: 1000, emptyBlockPeriodMs: 1000, requestTimeoutMs: 3000 },
    });
    await writeDevnetFile(net.dir, devnetFileOf(net));
    const run = await runCli(
      ['simulate', 'devices', '--devnet', net.dir, '--count', '4', '--rate', '8', '--seconds', '4', '--bad-fraction', '0.25', '--report', '1', '--json'],
      { timeoutMs: 90_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Done);
    expect(events.some((e) => e.event === 'report')).toBe(true);
    const done = events.find((e) => e.event === 'done')!;
    expect(done, run.stdout).toBeDefined();
    expect(done.bad, run.stdout).toBeGreaterThan(0);
    expect(done.final, run.stdout).toBeGreaterThan(0);
    expect(done.finalOnChain, run.stdout).toBe(done.final);
    expect(done.final + sum(done.rejected) + sum(done.uncounted) + done.noFinalAck, run.stdout).toBe(done.sent - done.bad);
    expect(done.noFinalAck, run.stdout).toBe(0);
    // Sending starts once each node has the block after the devices' registration, where their keys sign: no good reading is refused.
    expect(done.rejected, run.stdout).toEqual({});
    expect(done.ackStreamsEnded, run.stdout).toEqual({});
    expect(done.p50Ms, run.stdout).toBeGreaterThan(0);
    expect(done.p99Ms!, run.stdout).toBeGreaterThanOrEqual(done.p50Ms!);
  });
});
