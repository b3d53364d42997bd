import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addressFromPublicKey, blsGenerate, ed25519Generate, formatAddress } from '../core/keys.ts';
import { encryptKeySync } from '../core/keystore.ts';
import { initHome } from '../node/home/home.ts';
import { NodeProcess, runCli, startTestNetwork, stopTestNetworks } from './helpers/cluster.ts';
import { freePort, rpc, waitFor } from './helpers/net.ts';

interface ValidatorsJson {
  validators: { name: string; address: string }[];
}
interface BlockJson {
  proposer: string;
}

/**
 * A fifth validator joins a running 4-validator cluster by vote: two votes change
 * nothing, the third (a majority, floor(4/2)+1) changes the set from the next height;
 * the new node connects (the allow-lists grew), syncs, and takes its turn as proposer.
 */
describe('validator set change by vote', () => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    await stopTestNetworks(procs);
  });

  it('adds a validator after a majority of votes and the new validator proposes', async () => {
    const net = await startTestNetwork(procs, { validators: 4, accounts: 0, params: { blockPeriodMs: 300, emptyBlockPeriodMs: 300, requestTimeoutMs: 1500 } });

    const candidate = { identity: ed25519Generate(), consensus: blsGenerate() };
    const keysDir = join(net.dir, 'candidate-keys');
    mkdirSync(keysDir);
    writeFileSync(join(keysDir, 'identity.key'), JSON.stringify(encryptKeySync({ type: 'ed25519', secret: candidate.identity.seed, insecure: true })));
    writeFileSync(join(keysDir, 'consensus.key'), JSON.stringify(encryptKeySync({ type: 'bls', secret: candidate.consensus.secretKey, insecure: true })));
    const vote = (i: number) =>
      runCli([
        'tx',
        'validator-vote',
        '--add',
        '--name',
        'validator-4',
        '--candidate-keys',
        keysDir,
        '--key',
        net.files.validators[i]!.identityKeyFile,
        '--rpc',
        net.nodes[i]!.rpcUrl,
        '--wait',
        '--json',
      ]);
    const members = async () => (await rpc<ValidatorsJson>(net.nodes[0]!.rpcUrl, 'joule_getValidators', [])).validators.length;

    for (const i of [0, 1]) {
      const r = await vote(i);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await members()).toBe(4);
    const third = await vote(2);
    expect(third.code, third.stderr).toBe(0);
    expect(await members()).toBe(5);

    const ports = { p2p: await freePort(), rpc: await freePort(), metrics: await freePort(), grpc: await freePort() };
    const home = join(net.dir, 'validator-4');
    await initHome({
      home,
      genesisFile: net.files.genesisFile,
      name: 'validator-4',
      role: 'validator',
      identityKeyFile: join(keysDir, 'identity.key'),
      consensusKeyFile: join(keysDir, 'consensus.key'),
      ports,
      peers: net.nodes.map((n) => n.p2p),
    });
    const newcomer = new NodeProcess({ name: 'validator-4', home, rpcUrl: `http://127.0.0.1:${ports.rpc}` });
    procs.push(newcomer);
    await newcomer.start(60_000);
    const me = formatAddress(addressFromPublicKey(candidate.identity.publicKey));
    const start = (await rpc<{ height: number }>(net.nodes[0]!.rpcUrl, 'joule_status')).height;
    const proposedAt = await waitFor(
      'a block proposed by the new validator',
      async () => {
        const head = (await rpc<{ height: number }>(net.nodes[0]!.rpcUrl, 'joule_status')).height;
        for (let h = start; h <= head; h++) {
          const b = await rpc<BlockJson>(net.nodes[0]!.rpcUrl, 'joule_getBlock', [h]);
          if (b.proposer === me) return h;
        }
        return undefined;
      },
      90_000,
      500,
    );
    expect(proposedAt).toBeGreaterThanOrEqual(start);
  }, 240_000);
});
