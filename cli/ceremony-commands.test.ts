import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { decryptKey } from '../core/keystore.ts';
import { runCli } from './testing/run-cli.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';

/**
 * The genesis ceremony's commands: keys init, card export|verify, genesis assemble, init
 * --expect-hash --cards; their output, and a typed error naming the option or field for
 * each kind of bad input. Most run in this process (runCliInProcess: the same command tree
 * and error output, without a second of CPU per process); a few run as real processes.
 * (test/ceremony runs the whole ceremony on separate network namespaces and starts the chain.)
 */
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-ceremony-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pw = join(dir, 'pw');
writeFileSync(pw, 'ceremony passphrase\n');
const CHAIN = 'ceremony-cli';
const homeOf = (i: number) => join(dir, `host-${i}`);
const cardOf = (i: number) => join(dir, `dso-${i}.card.json`);
const read = (f: string): any => JSON.parse(readFileSync(f, 'utf8'));

beforeAll(async () => {
  for (const i of [0, 1, 2]) {
    const made = await cli([
      'keys',
      'init',
      '--home',
      homeOf(i),
      '--name',
      `dso-${i}`,
      '--p2p',
      `/ip4/10.3.0.${i + 1}/tcp/26600`,
      '--rpc-port',
      String(27_101 + i),
      '--passphrase-file',
      pw,
      '--json',
    ]);
    expect(made.code, made.stderr).toBe(0);
    const card = await cli(['card', 'export', '--home', homeOf(i), '--chain-id', CHAIN, '--out', cardOf(i), '--passphrase-file', pw]);
    expect(card.code, card.stderr).toBe(0);
  }
}, 60_000);

describe('help', () => {
  it('every ceremony command, and genesis init, prints its help and exits 0 (issue 8: a bigint default broke genesis init --help)', async () => {
    for (const cmd of [
      ['keys', 'init'],
      ['card', 'export'],
      ['card', 'verify'],
      ['genesis', 'assemble'],
      ['genesis', 'init'],
      ['init'],
      ['tx', 'validator-vote'],
    ]) {
      const r = await cli([...cmd, '--help']);
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: joule ${cmd.join(' ')}`);
    }
    expect((await cli(['genesis', 'assemble', '--help'])).stdout).toMatch(/--validator-balance <micro>[\s\S]*\(default: 1000000000\)/);
  });
});

describe('joule keys init', () => {
  it('makes a home with encrypted keys and prints where they are, never the secret (as a process)', async () => {
    const r = await runCli(['keys', 'init', '--home', homeOf(9), '--name', 'dso-9', '--p2p', '/ip4/10.3.0.9/tcp/26600', '--rpc-host', '10.4.0.9', '--json'], {
      env: { JOULE_PASSPHRASE: 'from the environment' },
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ name: 'dso-9', p2p: '/ip4/10.3.0.9/tcp/26600', encrypted: true });
    expect(out.peerId).toMatch(/^12D3KooW/);
    expect(read(join(homeOf(9), 'config.json')).rpc).toMatchObject({ host: '10.4.0.9', port: 26601 });
    const key = await decryptKey(read(out.identityKey), 'from the environment');
    expect(key.address).toBe(out.address);
    expect(r.stdout + r.stderr).not.toContain(toHex(key.secret));
  });

  it('refuses bad input, naming the option', async () => {
    const init = (args: string[], env: Record<string, string> = {}) =>
      cli(['keys', 'init', '--home', join(dir, 'bad'), '--name', 'ok', '--p2p', '/ip4/10.0.0.1/tcp/26600', ...args], { env });
    expect((await init([])).stderr).toMatch(/^error KEYSTORE_BAD_PASSPHRASE: the keys must be encrypted: give --passphrase-file/m);
    expect((await init(['--insecure', '--passphrase-file', pw])).stderr).toMatch(/^error INVALID_PARAMS: give either --passphrase-file/m);
    expect((await init(['--name', 'two words', '--passphrase-file', pw])).stderr).toMatch(/^error CONFIG_INVALID: --name: must be 1-64 letters/m);
    expect((await init(['--p2p', '/ip4/0.0.0.0/tcp/26600', '--passphrase-file', pw])).stderr).toMatch(
      /^error CONFIG_INVALID: --p2p: 0\.0\.0\.0 is "any address"/m,
    );
    expect((await init(['--p2p', '10.0.0.1:26600', '--passphrase-file', pw])).stderr).toMatch(/^error CONFIG_INVALID: --p2p: is not a multiaddr/m);
    expect((await init(['--rpc-port', '70000', '--passphrase-file', pw])).stderr).toMatch(
      /^error INVALID_PARAMS: --rpc-port must be an integer between 0 and 65535/m,
    );
    expect((await init(['--rpc-host', 'http://x/', '--passphrase-file', pw])).stderr).toMatch(
      /^error INVALID_PARAMS: --rpc-host must be a host name or IP address/m,
    );
    expect(existsSync(join(dir, 'bad'))).toBe(false);
    const again = await cli(['keys', 'init', '--home', homeOf(0), '--name', 'dso-0', '--p2p', '/ip4/10.3.0.1/tcp/26600', '--passphrase-file', pw]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error CONFIG_INVALID: --home: .*identity\.key already exists/m);
  });
});

describe('joule card export|verify', () => {
  it('exports a card without a secret byte in it, which verifies', async () => {
    const card = readFileSync(cardOf(0), 'utf8');
    expect(read(cardOf(0))).toMatchObject({ format: 'joule-validator-card/1', chainId: CHAIN, name: 'dso-0' });
    for (const f of ['identity.key', 'consensus.key']) {
      const secret = (await decryptKey(read(join(homeOf(0), 'keys', f)), 'ceremony passphrase')).secret;
      expect(card).not.toContain(toHex(secret));
      expect(card).not.toContain(Buffer.from(secret).toString('base64'));
    }
    const printed = await cli(['card', 'export', '--home', homeOf(0), '--chain-id', CHAIN, '--passphrase-file', pw]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(read(cardOf(0))); // BLS signatures are deterministic
    const v = await cli(['card', 'verify', cardOf(0), cardOf(1), '--chain-id', CHAIN]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/dso-0\.card\.json: ok \(dso-0, joule1/);
  });

  it('refuses a missing chain id and a wrong passphrase', async () => {
    const noChain = await cli(['card', 'export', '--home', homeOf(1), '--passphrase-file', pw]);
    expect(noChain.stderr).toMatch(/^error CONFIG_INVALID: --chain-id: give the chain id the card is for/m);
    writeFileSync(join(dir, 'wrong-pw'), 'not it');
    const wrong = await cli(['card', 'export', '--home', homeOf(1), '--chain-id', CHAIN, '--passphrase-file', join(dir, 'wrong-pw')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error KEYSTORE_BAD_PASSPHRASE: /m);
    const nat = await cli(['card', 'export', '--home', homeOf(1), '--chain-id', CHAIN, '--p2p', '/ip4/0.0.0.0/tcp/1', '--passphrase-file', pw]);
    expect(nat.stderr).toMatch(/^error CARD_INVALID: --p2p: 0\.0\.0\.0 is "any address"/m);
  });

  it('verify lists every problem of a tampered card with its field and exits 1', async () => {
    const bad = read(cardOf(1));
    bad.blsProofOfPossession = read(cardOf(2)).blsProofOfPossession;
    bad.p2p = read(cardOf(2)).p2p;
    writeFileSync(join(dir, 'tampered.json'), JSON.stringify(bad));
    writeFileSync(join(dir, 'not-json.json'), '{ "format":');
    const r = await cli(['card', 'verify', cardOf(0), join(dir, 'tampered.json'), join(dir, 'not-json.json'), '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.cards.map((c: any) => c.ok)).toEqual([true, false, false]);
    expect(out.cards[1].problems.map((p: any) => p.path).sort()).toEqual(['blsProofOfPossession', 'p2p']);
    expect(out.cards[2].problems[0].message).toMatch(/not valid JSON/);
    const other = await cli(['card', 'verify', cardOf(0), '--chain-id', 'another-chain']);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/chainId: is "ceremony-cli", not "another-chain"/);
  });
});

describe('joule genesis assemble and joule init --expect-hash --cards', () => {
  const genesis = join(dir, 'genesis.json');
  const assemble = (cards: string[], out: string, extra: string[] = []) =>
    cli(['genesis', 'assemble', '--cards', ...cards, '--chain-id', CHAIN, '--genesis-time', '2026-06-01T00:00:00Z', '--out', out, '--json', ...extra]);
  let hash = '';

  it('gives the same genesis and hash for the cards in any order; genesis hash agrees', async () => {
    const a = await assemble([cardOf(0), cardOf(1), cardOf(2)], genesis);
    expect(a.code, a.stderr).toBe(0);
    const b = await assemble([cardOf(2), cardOf(0), cardOf(1)], join(dir, 'genesis-b.json'));
    expect(b.code, b.stderr).toBe(0);
    hash = JSON.parse(a.stdout).genesisHash;
    expect(JSON.parse(b.stdout).genesisHash).toBe(hash);
    expect(readFileSync(join(dir, 'genesis-b.json'), 'utf8')).toBe(readFileSync(genesis, 'utf8'));
    expect(JSON.parse(a.stdout)).toMatchObject({ chainId: CHAIN, genesisTime: Date.parse('2026-06-01T00:00:00Z'), accounts: 3 });
    expect((await cli(['genesis', 'hash', genesis])).stdout.trim()).toBe(hash);
  });

  it('refuses bad cards, flags and files, naming them', async () => {
    const out = join(dir, 'never.json');
    const again = await assemble([cardOf(0)], genesis);
    expect(again.stderr).toMatch(/^error FILE_EXISTS: .*genesis\.json already exists/m);
    const tampered = await assemble([cardOf(0), join(dir, 'tampered.json')], out);
    expect(tampered.stderr).toMatch(/^error CARD_INVALID: 2 problems in the cards:\n {2}.*tampered\.json: blsProofOfPossession: does not verify/m);
    const foreign = await cli(['genesis', 'assemble', '--cards', cardOf(0), '--chain-id', 'another-chain', '--out', out]);
    expect(foreign.stderr).toMatch(
      /^error GENESIS_INVALID: cannot assemble the genesis \(1 problem\):\n {2}.*dso-0\.card\.json: is a card for chain "ceremony-cli", not "another-chain"/m,
    );
    const twice = await assemble([cardOf(0), cardOf(0)], out);
    expect(twice.stderr).toMatch(/dso-0\.card\.json: name: duplicate name/);
    expect((await assemble([cardOf(0)], out, ['--params', join(dir, 'nope.json')])).stderr).toMatch(
      /^error GENESIS_INVALID: --params .*nope\.json: cannot read it \(ENOENT\)/m,
    );
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ blockPeriodMs: 0 }));
    expect((await assemble([cardOf(0)], out, ['--params', join(dir, 'params.json')])).stderr).toMatch(/params\.json: blockPeriodMs: must be between 1/);
    writeFileSync(join(dir, 'accounts.json'), JSON.stringify([{ address: 'joule1xyz', balance: '10' }]));
    expect((await assemble([cardOf(0)], out, ['--accounts', join(dir, 'accounts.json')])).stderr).toMatch(/accounts\.json: \[0\]\.address: /);
    const time = await cli(['genesis', 'assemble', '--cards', cardOf(0), '--chain-id', CHAIN, '--genesis-time', 'yesterday', '--out', out]);
    expect(time.stderr).toMatch(/^error INVALID_PARAMS: --genesis-time must be milliseconds since the Unix epoch or an ISO 8601 time/m);
    const balance = await cli(['genesis', 'assemble', '--cards', cardOf(0), '--chain-id', CHAIN, '--validator-balance', '-1', '--out', out]);
    expect(balance.stderr).toMatch(/^error INVALID_PARAMS: --validator-balance must be a whole number/m);
    expect(existsSync(out)).toBe(false);
  });

  it('init refuses a keys-init home without the expected hash, with a malformed or another hash, and with its own key flags', async () => {
    const init = (args: string[]) => cli(['init', '--home', homeOf(0), '--genesis', genesis, '--cards', cardOf(0), cardOf(1), cardOf(2), ...args]);
    expect((await init([])).stderr).toMatch(/^error INVALID_PARAMS: --expect-hash is required for a home made by `joule keys init`/m);
    expect((await init(['--expect-hash', hash.slice(2)])).stderr).toMatch(/^error INVALID_PARAMS: --expect-hash: must be 0x followed by 64 hex digits/m);
    const other = `0x${'ab'.repeat(32)}`;
    expect((await init(['--expect-hash', other])).stderr).toMatch(
      new RegExp(`^error GENESIS_INVALID: --expect-hash: .*genesis\\.json has hash ${hash}, not the expected ${other}`, 'm'),
    );
    expect((await init(['--expect-hash', hash, '--identity-key', cardOf(0)])).stderr).toMatch(/^error INVALID_PARAMS: .*already has its keys and config/m);
    expect((await init(['--expect-hash', hash, '--cards', join(dir, 'tampered.json')])).stderr).toMatch(
      /^error CARD_INVALID: .*tampered\.json is not a valid validator card/m,
    );
    expect(existsSync(join(homeOf(0), 'genesis.json'))).toBe(false);
  });

  it('init with the expected hash writes the genesis and the other validators as static peers (as a process)', async () => {
    const r = await runCli(['init', '--home', homeOf(0), '--genesis', genesis, '--expect-hash', hash, '--cards', cardOf(0), cardOf(1), cardOf(2), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ name: 'dso-0', genesisHash: hash, inGenesis: true, withoutCard: [], joinedLater: [] });
    expect(out.peers).toEqual([read(cardOf(1)).p2p, read(cardOf(2)).p2p]);
    expect(read(join(homeOf(0), 'config.json')).p2p.peers).toEqual(out.peers);
    expect(readFileSync(join(homeOf(0), 'genesis.json'), 'utf8')).toBe(readFileSync(genesis, 'utf8'));
    // Only one card given: the node says which validators it has no address for.
    const partial = await cli(['init', '--home', homeOf(1), '--genesis', genesis, '--expect-hash', hash, '--cards', cardOf(0)]);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stderr).toMatch(/warning: no card for dso-2: no static peer for them/);
  });
});
