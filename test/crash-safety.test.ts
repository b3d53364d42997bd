import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/prng.ts';
import { replayChain } from '../node/chain/replay.ts';
import { createTestNetwork, removeTestNetworks, NodeProcess, type TestNetwork } from './helpers/cluster.ts';
import { TransferLoad } from './helpers/load.ts';
import { rpc } from './helpers/net.ts';

// Each kill costs a process start (~5 s on a busy 2-core machine); 12 keeps the suite within its budget.
const KILLS = 12;

describe('crash safety: SIGKILL at random moments under load', () => {
  let net: TestNetwork;
  let node: NodeProcess | undefined;
  afterAll(async () => {
    await node?.kill();
    await removeTestNetworks();
  });

  it(`loses nothing reported final over ${KILLS} kills, and the state equals re-execution from genesis`, async () => {
    // Printed in every assertion message; JOULE_TEST_SEED replays a failing run.
    const seed = Number(process.env.JOULE_TEST_SEED ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    net = await createTestNetwork({ validators: 1, accounts: 6, params: { blockPeriodMs: 150, emptyBlockPeriodMs: 150 } });
    const load = new TransferLoad(
      net.devnet.genesis.chainId,
      net.devnet.accountKeys.map((a) => a.keyPair),
    );
    const url = net.nodes[0]!.rpcUrl;
    /** Everything a client was told is final: tx hash -> block hash, and height -> block hash. */
    const finalTxs = new Map<string, string>();
    const finalBlocks = new Map<number, string>();
    node = new NodeProcess(net.nodes[0]!);

    const checkNothingLost = async (): Promise<void> => {
      for (const [height, hash] of finalBlocks) {
        const b = await rpc<{ hash: string } | null>(url, 'joule_getBlock', [height]);
        expect(b?.hash, `seed ${seed}: block ${height} changed or vanished after a crash`).toBe(hash);
      }
      for (const [tx, blockHash] of finalTxs) {
        const t = await rpc<{ blockHash: string } | null>(url, 'joule_getTransaction', [tx]);
        expect(t?.blockHash, `seed ${seed}: final tx ${tx} lost after a crash`).toBe(blockHash);
      }
    };

    for (let kill = 0; kill < KILLS; kill++) {
      await node.start();
      await checkNothingLost();
      load.resync();
      const runFor = 200 + Math.floor(random() * 1300);
      const until = Date.now() + runFor;
      while (Date.now() < until) {
        await load.round(url);
        // Record what the node now reports final (a sample of recent submissions and the head block).
        for (const s of load.submitted.slice(-12)) {
          const t = await rpc<{ blockHash: string } | null>(url, 'joule_getTransaction', [s.hash]).catch(() => null);
          if (t !== null) finalTxs.set(s.hash, t.blockHash);
        }
        const head = await rpc<{ height: number; hash: string } | null>(url, 'joule_getBlock', ['latest']).catch(() => null);
        if (head !== null) finalBlocks.set(head.height, head.hash);
      }
      expect(await node.kill('SIGKILL')).toBeNull();
    }

    await node.start();
    await checkNothingLost();
    const status = await rpc<{ height: number }>(url, 'joule_status');
    const head = await rpc<{ stateRoot: string; height: number }>(url, 'joule_getBlock', [status.height]);
    expect(await node.kill('SIGTERM'), 'clean shutdown exits 0').toBe(0);
    expect(finalTxs.size, `seed ${seed}: the load produced final transactions`).toBeGreaterThan(20);

    const report = await replayChain(join(net.nodes[0]!.home, 'data'), net.devnet.genesis);
    // The node may commit a block between the read of its head and SIGTERM; replayChain checks
    // every stored header's state root against re-execution, so the last one is checked too.
    expect(report.height).toBeGreaterThanOrEqual(head.height);
    if (report.height === head.height) expect(`0x${Buffer.from(report.stateRoot).toString('hex')}`).toBe(head.stateRoot);
  }, 300_000);
});
