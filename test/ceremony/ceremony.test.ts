import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { decryptKey } from '../../core/keystore.ts';
import { runCliInProcess } from '../../cli/testing/run-in-process.ts';
import { rpc, waitFor } from '../helpers/net.ts';
import { NsNode } from '../faults/ns-node.ts';
import { NetSandbox } from '../faults/sandbox.ts';
import { filesUnder, Host } from './hosts.ts';

interface StatusJson {
  height: number;
  peerCount: number;
  genesisHash: string;
}

const CHAIN = 'ceremony-e2e';
const PARAMS = { blockPeriodMs: 300, emptyBlockPeriodMs: 300, requestTimeoutMs: 1500 };

/**
 * The genesis ceremony of README "Starting a real network", end to end, with each operator
 * on its own "host" (a network namespace of test/faults/sandbox.ts, its own addresses and
 * directory). Four operators make their keys and cards on their hosts; the test process is
 * the coordinator and assembles the genesis from the four cards; each operator checks the
 * hash and starts; the chain finalises. A fifth operator makes its card later, the
 * validators vote it in from the card, and it syncs and proposes. No secret key file, and
 * no secret byte, is ever found outside its own host's home.
 */
describe('genesis ceremony: operators in separate organisations', () => {
  let sandbox: NetSandbox | undefined;
  const nodes: NsNode[] = [];
  const root = mkdtempSync(join(tmpdir(), 'joule-ceremony-'));
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    await sandbox?.destroy();
    if (process.env.JOULE_FAULTS_KEEP === undefined) rmSync(root, { recursive: true, force: true });
    else console.log(`ceremony kept in ${root}`);
  }, 60_000);

  const nodeOf = (host: Host): NsNode =>
    new NsNode({
      name: host.name,
      home: host.home,
      rpcUrl: host.rpcUrl,
      metricsUrl: `http://${host.ctlIp}:26602`,
      wrap: (argv) => sandbox!.command(host.index, [...argv, '--passphrase-file', host.passphraseFile]),
    });

  /** Steps 1 and 2 on the operator's own host: a home with keys made there, and the public card. */
  async function makeHomeAndCard(host: Host): Promise<string> {
    await host.cli([
      'keys',
      'init',
      '--home',
      host.home,
      '--name',
      host.name,
      '--p2p',
      `/ip4/${host.dataIp}/tcp/26600`,
      '--rpc-host',
      host.ctlIp,
      '--metrics-host',
      host.ctlIp,
      '--passphrase-file',
      host.passphraseFile,
    ]);
    const card = join(host.dir, `${host.name}.card.json`);
    await host.cli(['card', 'export', '--home', host.home, '--chain-id', CHAIN, '--out', card, '--passphrase-file', host.passphraseFile]);
    return card;
  }

  it('four homes from four cards finalise; a fifth joins by vote from its card and proposes; no secret leaves its host', async () => {
    sandbox = await NetSandbox.create(5);
    const hosts = [0, 1, 2, 3, 4].map((i) => new Host(sandbox!, root, i));
    const founders = hosts.slice(0, 4);

    // 1-2. Every founding operator, on its own host.
    const cards = await Promise.all(founders.map((h) => makeHomeAndCard(h)));

    // 3. The coordinator (this process) receives the cards (public) and assembles the genesis.
    const coordinator = join(root, 'coordinator');
    mkdirSync(coordinator);
    const received = cards.map((card, i) => {
      const copy = join(coordinator, `dso-${i}.card.json`);
      writeFileSync(copy, readFileSync(card));
      return copy;
    });
    const verified = await runCliInProcess(['card', 'verify', ...received, '--chain-id', CHAIN]);
    expect(verified.code, verified.stderr).toBe(0);
    writeFileSync(join(coordinator, 'params.json'), JSON.stringify(PARAMS));
    const genesisFile = join(coordinator, 'genesis.json');
    const assembled = await runCliInProcess([
      'genesis',
      'assemble',
      '--cards',
      ...[...received].reverse(),
      '--chain-id',
      CHAIN,
      '--params',
      join(coordinator, 'params.json'),
      '--out',
      genesisFile,
      '--json',
    ]);
    expect(assembled.code, assembled.stderr).toBe(0);
    const hash: string = JSON.parse(assembled.stdout).genesisHash;

    // 4. Each operator receives genesis.json and the cards, checks the hash and starts.
    await Promise.all(
      founders.map(async (h) => {
        const g = h.receive(genesisFile, 'genesis.json');
        const theirCards = received.map((c, i) => h.receive(c, `dso-${i}.card.json`));
        if (h.index === 0) {
          // A genesis with another hash than the one announced is refused, and nothing is written.
          const wrong = await h.cliResult(['init', '--home', h.home, '--genesis', g, '--expect-hash', `0x${'00'.repeat(32)}`, '--cards', ...theirCards]);
          expect(wrong.code).toBe(1);
          expect(wrong.stderr).toMatch(/^error GENESIS_INVALID: --expect-hash: /m);
        }
        const init = await h.cli(['init', '--home', h.home, '--genesis', g, '--expect-hash', hash, '--cards', ...theirCards, '--json']);
        expect(JSON.parse(init.stdout)).toMatchObject({ genesisHash: hash, inGenesis: true, withoutCard: [] });
      }),
    );
    nodes.push(...founders.map(nodeOf));
    await Promise.all(nodes.map((n) => n.start(90_000)));

    // The chain finalises: every node past height 3, connected to the three others, on one chain.
    await waitFor(
      'four founders finalising together',
      async () => {
        const all = await Promise.all(founders.map((h) => rpc<StatusJson>(h.rpcUrl, 'joule_status', [], 1000)));
        return all.every((s) => s.height >= 3 && s.peerCount >= 3 && s.genesisHash === hash) ? true : undefined;
      },
      60_000,
      200,
    );
    const blocks = await Promise.all(founders.map((h) => rpc<{ hash: string }>(h.rpcUrl, 'joule_getBlock', [3])));
    expect(new Set(blocks.map((b) => b.hash)).size).toBe(1);

    // 5. A fifth operator, later: its home and card on its own host; three of four vote it in from the card.
    const late = hosts[4]!;
    const lateCard = await makeHomeAndCard(late);
    const me = JSON.parse(readFileSync(lateCard, 'utf8')).address as string;
    await Promise.all(
      founders.slice(0, 3).map(async (h) => {
        const card = h.receive(lateCard, 'dso-4.card.json');
        const voted = await h.cli([
          'tx',
          'validator-vote',
          '--add',
          '--card',
          card,
          '--key',
          join(h.home, 'keys', 'identity.key'),
          '--passphrase-file',
          h.passphraseFile,
          '--rpc',
          h.rpcUrl,
          '--wait',
          '--json',
        ]);
        expect(JSON.parse(voted.stdout)).toMatchObject({ receipt: { success: true } });
      }),
    );
    const set = await rpc<{ validators: { name: string; address: string }[] }>(founders[0]!.rpcUrl, 'joule_getValidators', []);
    expect(set.validators.map((v) => v.name).sort()).toEqual(['dso-0', 'dso-1', 'dso-2', 'dso-3', 'dso-4']);

    const lateGenesis = late.receive(genesisFile, 'genesis.json');
    const lateCards = received.map((c, i) => late.receive(c, `dso-${i}.card.json`));
    const lateInit = await late.cli(['init', '--home', late.home, '--genesis', lateGenesis, '--expect-hash', hash, '--cards', ...lateCards, '--json']);
    expect(JSON.parse(lateInit.stdout)).toMatchObject({ genesisHash: hash, inGenesis: false });
    const newcomer = nodeOf(late);
    nodes.push(newcomer);
    await newcomer.start(90_000);
    const from = (await rpc<StatusJson>(founders[0]!.rpcUrl, 'joule_status')).height;
    const proposed = await waitFor(
      'a block proposed by the fifth validator',
      async () => {
        const head = (await rpc<StatusJson>(late.rpcUrl, 'joule_status', [], 1000)).height;
        for (let h = from; h <= head; h++) {
          const b = await rpc<{ proposer: string; hash: string }>(late.rpcUrl, 'joule_getBlock', [h]);
          if (b.proposer === me) return { height: h, hash: b.hash };
        }
        return undefined;
      },
      60_000,
      500,
    );
    // The founders finalised the very block it proposed.
    expect((await rpc<{ hash: string }>(founders[0]!.rpcUrl, 'joule_getBlock', [proposed.height])).hash).toBe(proposed.hash);

    // Graceful stop (SIGTERM), then no secret anywhere but in its own home's keys/.
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
    const secrets: { owner: Host; bytes: Buffer }[] = [];
    for (const h of hosts) {
      const pass = readFileSync(h.passphraseFile, 'utf8').trim();
      for (const f of ['identity.key', 'consensus.key'])
        secrets.push({ owner: h, bytes: Buffer.from((await decryptKey(JSON.parse(readFileSync(join(h.home, 'keys', f), 'utf8')), pass)).secret) });
    }
    const keyFiles: string[] = [];
    for (const file of filesUnder(root)) {
      const content = readFileSync(join(root, file));
      if (/"crypto"\s*:|"insecure"\s*:\s*true/.test(content.toString('latin1'))) keyFiles.push(file);
      for (const s of secrets) {
        if (file.startsWith(`host-${s.owner.index}/joule/keys/`)) continue;
        expect(content.includes(s.bytes), `${file} holds ${s.owner.name}'s secret key`).toBe(false);
        expect(content.includes(Buffer.from(toHex(s.bytes))), `${file} holds ${s.owner.name}'s secret key in hex`).toBe(false);
      }
    }
    expect(keyFiles.sort()).toEqual(hosts.flatMap((h) => [`host-${h.index}/joule/keys/consensus.key`, `host-${h.index}/joule/keys/identity.key`]).sort());
  }, 240_000);
});
