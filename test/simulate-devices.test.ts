import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { devnetFileOf, writeDevnetFile } from '../cli/devnet-file.ts';
import { RpcClient } from '../cli/rpc-client.ts';
import { addressFromPublicKey, formatAddress } from '../core/keys.ts';
import type { AccountJson, TransactionJson } from '../core/rpc-json.ts';
import { type NodeProcess, runCli, startTestNetwork, stopTestNetworks } from './helpers/cluster.ts';

/**
 * `joule simulate devices --devnet DIR` on a real 2-validator devnet (2 OS processes):
 * devices stream to both validators over gRPC, and the simulator learns which readings are
 * final from each validator's acknowledgement stream. Every reading it counts final is on
 * chain and every reading of the run on chain was counted (the end's cross-check agrees),
 * and every good reading sent is accounted for: final, rejected, uncounted or without a final
 * ack; on a healthy devnet none is rejected, the first ones after the registration included,
 * while the devices' operator sends txs of its own from the account its node batches from.
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
    const devnet = devnetFileOf(net);
    await writeDevnetFile(net.dir, devnet);
    const running = runCli(
      ['simulate', 'devices', '--devnet', net.dir, '--count', '4', '--rate', '8', '--seconds', '6', '--bad-fraction', '0.25', '--report', '1', '--json'],
      { timeoutMs: 90_000 },
    );
    // Meanwhile the devices' operator, whose account validator-0's aggregator batches from, sends
    // txs of its own from the CLI: each takes a nonce no batch holds, and no batch is lost.
    const operator = ['--key', join(devnet.nodes[0]!.home, 'keys', 'aggregator.key'), '--rpc', devnet.nodes[0]!.rpc];
    const rpc = new RpcClient(devnet.nodes[0]!.rpc);
    const me = formatAddress(addressFromPublicKey(net.devnet.aggregatorKeys[0]!.keyPair.publicKey));
    // Its batches are flowing once its nonce has passed the devices' registrations (2) and two batches.
    for (const deadline = Date.now() + 30_000; (await rpc.call<AccountJson>('joule_getAccount', [me])).nonce < 4; )
      if (Date.now() > deadline) throw new Error('no telemetry batch of validator-0 within 30 s');
      else await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 3; i++) {
      const sent = await runCli(['tx', 'transfer', ...operator, '--to', me, '--amount', '1', '--wait', '--json'], { timeoutMs: 30_000 });
      expect(sent.code, sent.stderr).toBe(0);
      expect((JSON.parse(sent.stdout) as TransactionJson).receipt.success).toBe(true);
    }
    const run = await running;
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
