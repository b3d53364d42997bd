import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressFromPublicKey, ed25519Generate, formatAddress } from '../core/keys.ts';
import { ValidatorSet } from '../core/validators.ts';
import { createP2PNode, peerIdFromIdentityKey } from '../p2p/index.ts';
import { createTestNetwork, removeTestNetworks, NodeProcess, type TestNetwork } from './helpers/cluster.ts';
import { TransferLoad } from './helpers/load.ts';
import { rpc, waitFor } from './helpers/net.ts';

interface Status {
  height: number;
  latestBlockHash: string;
  peerCount: number;
}
interface BlockJson {
  hash: string;
  height: number;
  stateRoot: string;
  proposer: string;
  certificate: { signerIndexes: number[]; round: number } | null;
}

const height = async (url: string) => (await rpc<Status>(url, 'joule_status', [], 2000)).height;

/**
 * Four validators as four OS processes on loopback, talking libp2p: finality, one crash,
 * recovery, loss of quorum, quorum regained, an unknown peer refused, and one chain at the end.
 */
describe('QBFT cluster: 4 validator processes over libp2p', () => {
  let net: TestNetwork;
  let nodes: NodeProcess[];
  const url = (i: number) => net.nodes[i]!.rpcUrl;
  const advances = async (i: number, by: number, timeoutMs: number) => {
    const start = await height(url(i));
    return waitFor(`${net.nodes[i]!.name} to pass height ${start + by}`, async () => ((await height(url(i))) >= start + by ? true : undefined), timeoutMs, 200);
  };

  beforeAll(async () => {
    net = await createTestNetwork({ validators: 4, accounts: 4, params: { blockPeriodMs: 400, emptyBlockPeriodMs: 400, requestTimeoutMs: 1500 } });
    nodes = net.nodes.map((n) => new NodeProcess(n));
    await Promise.all(nodes.map((n) => n.start(60_000)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all((nodes ?? []).map((n) => n.kill()));
    await removeTestNetworks();
  });

  it('finalises blocks and transactions on every validator', async () => {
    await waitFor(
      'all validators at height 3',
      async () => ((await Promise.all(nodes.map((_, i) => height(url(i))))).every((h) => h >= 3) ? true : undefined),
      60_000,
      200,
    );
    const load = new TransferLoad(
      net.devnet.genesis.chainId,
      net.devnet.accountKeys.map((a) => a.keyPair),
    );
    expect(await load.round(url(0))).toBe(4);
    const last = load.submitted.at(-1)!;
    // Submitted to validator-0 only: gossip carries it to whoever proposes; every node then has it final.
    for (let i = 0; i < 4; i++) {
      const tx = await waitFor(
        `tx final on validator-${i}`,
        () => rpc<{ blockHash: string } | null>(url(i), 'joule_getTransaction', [last.hash]).then((t) => t ?? undefined),
        20_000,
        200,
      );
      expect(tx.blockHash).toMatch(/^0x/);
    }
    const b = await rpc<BlockJson>(url(1), 'joule_getBlock', ['latest']);
    expect(b.certificate!.signerIndexes.length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('keeps finalising with one validator killed, and the restarted one catches up and votes again', async () => {
    await nodes[3]!.kill('SIGKILL');
    // Eight more blocks: validator-3's turns as proposer time out and pass by round change.
    await advances(0, 8, 60_000);
    const rounds = [];
    const head = await height(url(0));
    for (let h = head - 7; h <= head; h++) rounds.push((await rpc<BlockJson>(url(0), 'joule_getBlock', [h])).certificate!.round);
    expect(Math.max(...rounds), 'some block needed a round change').toBeGreaterThan(0);

    await nodes[3]!.start(60_000);
    await waitFor('validator-3 to catch up', async () => ((await height(url(3))) >= (await height(url(0))) - 1 ? true : undefined), 60_000, 200);
    // It takes part again: it proposes in its turn and its seals certify blocks.
    const me = formatAddress(addressFromPublicKey(net.devnet.validatorKeys[3]!.identity.publicKey));
    const myIndex = new ValidatorSet(net.devnet.genesis.validators).indexOf(addressFromPublicKey(net.devnet.validatorKeys[3]!.identity.publicKey));
    const from = await height(url(0));
    await advances(0, 8, 60_000);
    let proposed = 0;
    let sealed = 0;
    for (let h = from + 1; h <= from + 8; h++) {
      const b = await rpc<BlockJson>(url(3), 'joule_getBlock', [h]);
      if (b.proposer === me) proposed++;
      if (b.certificate!.signerIndexes.includes(myIndex)) sealed++;
    }
    expect(proposed, 'validator-3 proposed again').toBeGreaterThan(0);
    expect(sealed, 'validator-3 sealed blocks again').toBeGreaterThan(0);
  }, 180_000);

  it('finalises nothing without a quorum, forks nothing, and resumes when a validator returns', async () => {
    await Promise.all([nodes[2]!.kill('SIGKILL'), nodes[3]!.kill('SIGKILL')]);
    await new Promise((r) => setTimeout(r, 1000)); // a block in flight may still land
    const stuck = await height(url(0));
    await new Promise((r) => setTimeout(r, 5000));
    expect(await height(url(0))).toBe(stuck);
    expect(await height(url(1))).toBe(stuck);
    await nodes[3]!.start(60_000);
    await advances(0, 3, 90_000);
  }, 180_000);

  it('refuses a peer id that is not allow-listed', async () => {
    const stranger = ed25519Generate();
    const p2p = await createP2PNode({
      chainId: net.devnet.genesis.chainId,
      identitySeed: stranger.seed,
      listen: '/ip4/127.0.0.1/tcp/0',
      staticPeers: [net.nodes[0]!.p2p],
      allowedPeers: [net.nodes[0]!.peerId],
    });
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect(p2p.peerCount()).toBe(0);
      await expect(p2p.requestStatus(net.nodes[0]!.peerId)).rejects.toThrow();
      expect(peerIdFromIdentityKey(stranger.publicKey)).toBe(p2p.peerId);
    } finally {
      await p2p.stop();
    }
  }, 30_000);

  it('ends with one chain: the same block hash and state root at every height on every node', async () => {
    await nodes[2]!.start(60_000);
    await waitFor(
      'all four within a block of each other',
      async () => {
        const hs = await Promise.all(nodes.map((_, i) => height(url(i))));
        return Math.max(...hs) - Math.min(...hs) <= 1 ? true : undefined;
      },
      90_000,
      300,
    );
    const top = Math.min(...(await Promise.all(nodes.map((_, i) => height(url(i))))));
    for (let h = 1; h <= top; h++) {
      const blocks = await Promise.all(nodes.map((_, i) => rpc<BlockJson>(url(i), 'joule_getBlock', [h])));
      for (const b of blocks) {
        expect(b.hash, `height ${h}`).toBe(blocks[0]!.hash);
        expect(b.stateRoot, `height ${h}`).toBe(blocks[0]!.stateRoot);
      }
    }
    expect(top).toBeGreaterThan(10);
  }, 180_000);
});
