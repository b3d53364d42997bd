import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addressFromPublicKey, formatAddress } from '../core/keys.ts';
import { Database, DbPrefix, dbKey } from '../state/db.ts';
import { accountKey } from '../state/keys.ts';
import { createTestNetwork, NodeProcess, removeTestNetworks, runCli, type TestNetwork } from './helpers/cluster.ts';
import { TransferLoad } from './helpers/load.ts';
import { rpc, RpcCallError, waitFor } from './helpers/net.ts';

/**
 * Issue 7, state that outgrows memory, through a real node process: pruned heights answer
 * STATE_PRUNED through JSON-RPC and `joule query proof`, heights in the window prove, and
 * `joule verify-state` checks a stopped node's whole state and finds a damaged value.
 */
describe('state history window and verify-state, one node process', () => {
  let net: TestNetwork;
  let node: NodeProcess | undefined;
  afterAll(async () => {
    await node?.kill();
    await removeTestNetworks();
  });

  it('proves inside the window, refuses beyond it with STATE_PRUNED, and verify-state checks the stopped node', async () => {
    net = await createTestNetwork({ validators: 1, accounts: 3, params: { blockPeriodMs: 150, emptyBlockPeriodMs: 150 } });
    const home = net.nodes[0]!.home;
    const configFile = join(home, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    writeFileSync(configFile, JSON.stringify({ ...config, state: { ...config.state, historyBlocks: 3 } }));
    const url = net.nodes[0]!.rpcUrl;
    node = new NodeProcess(net.nodes[0]!);
    await node.start();

    const load = new TransferLoad(
      net.devnet.genesis.chainId,
      net.devnet.accountKeys.map((a) => a.keyPair),
    );
    const holder = formatAddress(addressFromPublicKey(net.devnet.accountKeys[0]!.keyPair.publicKey));
    await waitFor(
      'height 12 with state changes along the way',
      async () => {
        await load.round(url);
        return (await rpc<{ height: number }>(url, 'joule_status')).height >= 12 ? true : undefined;
      },
      60_000,
    );

    const raw = await rpc(url, 'joule_getProof', [holder, 1]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(raw).toBeInstanceOf(RpcCallError);
    expect((raw as RpcCallError).error.data).toMatchObject({ code: 'STATE_PRUNED' });
    const pruned = await runCli(['query', 'proof', holder, '--height', '1', '--rpc', url]);
    expect(pruned.code).toBe(1);
    expect(pruned.stderr).toMatch(/^error STATE_PRUNED: height: the state at height 1 was pruned: the oldest provable height is \d+/m);
    const recent = await runCli(['query', 'proof', holder, '--rpc', url, '--json']);
    expect(recent.code, recent.stderr).toBe(0);
    expect(JSON.parse(recent.stdout)).toMatchObject({ verified: true });

    expect(await node.kill('SIGTERM')).toBe(0);
    const verified = await runCli(['verify-state', '--home', home]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^state root {2}0x[0-9a-f]{64}$/m);
    expect(verified.stderr).toMatch(/state verified: \d+ values at height \d+/);

    const db = await Database.open(join(home, 'data'));
    await db
      .batch()
      .put(dbKey(DbPrefix.stateValue, accountKey(addressFromPublicKey(net.devnet.accountKeys[1]!.keyPair.publicKey))), new Uint8Array([0x94, 0, 9, 0, 0]))
      .write();
    await db.close();
    const damaged = await runCli(['verify-state', '--home', home]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/^error STORE_CORRUPT: the \d+ state values hash to root/m);
  }, 180_000);
});
