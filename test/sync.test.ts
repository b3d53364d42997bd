import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ed25519Generate, blsGenerate } from '../core/keys.ts';
import { encryptKeySync } from '../core/keystore.ts';
import { initHome } from '../node/home/home.ts';
import { peerIdFromIdentityKey } from '../p2p/index.ts';
import { createTestNetwork, NodeProcess, stopTestNetworks } from './helpers/cluster.ts';
import { freePort, rpc, waitFor } from './helpers/net.ts';

interface BlockJson {
  hash: string;
  stateRoot: string;
}

/**
 * A node that starts 200 blocks late catches up by sync (each block's certificate checked
 * and the block re-executed), then follows by gossip: here an observer, which votes on
 * nothing but serves the same chain over RPC.
 */
describe('block sync: an observer started after 200 blocks', () => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    await stopTestNetworks(procs);
  });

  it('catches up, verifying every certificate, and then follows the head', async () => {
    const net = await createTestNetwork({ validators: 1, accounts: 1, params: { blockPeriodMs: 40, emptyBlockPeriodMs: 40, requestTimeoutMs: 1000 } });
    const observerKey = ed25519Generate();
    const observerPeerId = peerIdFromIdentityKey(observerKey.publicKey);
    // The validator must name the observer to let it in.
    const validatorConfig = join(net.nodes[0]!.home, 'config.json');
    const cfg = JSON.parse(readFileSync(validatorConfig, 'utf8'));
    cfg.p2p.allowPeers = [observerPeerId];
    writeFileSync(validatorConfig, JSON.stringify(cfg));

    const validator = new NodeProcess(net.nodes[0]!);
    procs.push(validator);
    await validator.start();
    await waitFor(
      '200 blocks',
      async () => ((await rpc<{ height: number }>(net.nodes[0]!.rpcUrl, 'joule_status')).height >= 200 ? true : undefined),
      120_000,
      250,
    );

    const keyFile = (name: string, type: 'ed25519' | 'bls', secret: Uint8Array) => {
      const f = join(net.dir, name);
      writeFileSync(f, JSON.stringify(encryptKeySync({ type, secret, insecure: true })));
      return f;
    };
    const home = join(net.dir, 'observer');
    const ports = { p2p: await freePort(), rpc: await freePort(), metrics: await freePort(), grpc: await freePort() };
    await initHome({
      home,
      genesisFile: net.files.genesisFile,
      name: 'observer',
      role: 'observer',
      identityKeyFile: keyFile('observer-identity.key', 'ed25519', observerKey.seed),
      consensusKeyFile: keyFile('observer-consensus.key', 'bls', blsGenerate().secretKey),
      ports,
      peers: [net.nodes[0]!.p2p],
    });
    const observerUrl = `http://127.0.0.1:${ports.rpc}`;
    const observer = new NodeProcess({ name: 'observer', home, rpcUrl: observerUrl });
    procs.push(observer);
    await observer.start();

    const target = (await rpc<{ height: number }>(net.nodes[0]!.rpcUrl, 'joule_status')).height;
    await waitFor(
      'the observer to reach the validator',
      async () => ((await rpc<{ height: number }>(observerUrl, 'joule_status')).height >= target ? true : undefined),
      120_000,
      250,
    );
    const status = await rpc<{ role: string; syncing: boolean }>(observerUrl, 'joule_status');
    expect(status.role).toBe('observer');
    for (const h of [1, 50, 100, 150, target]) {
      const [a, b] = await Promise.all([rpc<BlockJson>(net.nodes[0]!.rpcUrl, 'joule_getBlock', [h]), rpc<BlockJson>(observerUrl, 'joule_getBlock', [h])]);
      expect(b.hash, `height ${h}`).toBe(a.hash);
      expect(b.stateRoot).toBe(a.stateRoot);
    }
    // Then it keeps following (gossip or sync) without voting.
    const later = target + 20;
    await waitFor(
      'the observer to follow new blocks',
      async () => ((await rpc<{ height: number }>(observerUrl, 'joule_status')).height >= later ? true : undefined),
      60_000,
      250,
    );
    expect(readFileSync(join(home, 'node.log'), 'utf8')).toMatch(/sync: caught up/);
  }, 300_000);
});
