import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { decryptKey } from '../../core/keystore.ts';
import { assembleGenesis, genesisFileText, genesisHash, loadGenesis } from '../../genesis/index.ts';
import { cardToJson, parseCard, type ValidatorCard } from './card.ts';
import { loadConfig } from './config.ts';
import { adoptGenesis, applyCards, awaitsGenesis, checkedGenesis, createOperatorHome, exportCard, parseGenesisHash } from './operator-home.ts';

const dir = mkdtempSync(join(tmpdir(), 'joule-operator-home-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FAST = { n: 2 ** 10, r: 8, p: 1 };
const PASS = 'correct horse battery staple';
const CHAIN = 'ceremony-unit';

async function home(i: number, over: { name?: string } = {}) {
  const h = join(dir, `host-${i}`, 'home');
  await createOperatorHome({
    home: h,
    name: over.name ?? `dso-${i}`,
    p2p: `/ip4/10.9.0.${i + 1}/tcp/26600`,
    passphrase: PASS,
    scrypt: FAST,
    rpc: { host: `10.8.0.${i + 1}` },
  });
  return h;
}

function writeGenesis(cards: readonly ValidatorCard[], file: string): string {
  const { genesis } = assembleGenesis({
    chainId: CHAIN,
    genesisTime: 1_767_225_600_000,
    validators: cards.map((c) => ({ source: c.name, chainId: c.chainId, validator: c.validator })),
    validatorBalance: 1_000n,
  });
  writeFileSync(file, genesisFileText(genesis));
  return `0x${toHex(genesisHash(genesis))}`;
}

describe('operator homes (genesis ceremony)', () => {
  it('creates keys that exist only in the home: encrypted, 0600 in 0700 directories; a config without genesis', async () => {
    const h = await home(0);
    expect(statSync(h).mode & 0o777).toBe(0o700);
    expect(statSync(join(h, 'keys')).mode & 0o777).toBe(0o700);
    for (const f of ['identity.key', 'consensus.key']) {
      expect(statSync(join(h, 'keys', f)).mode & 0o777).toBe(0o600);
      const k = JSON.parse(readFileSync(join(h, 'keys', f), 'utf8'));
      expect(k.crypto.kdf).toBe('scrypt');
      expect(k.secret).toBeUndefined();
      await expect(decryptKey(k, 'wrong passphrase')).rejects.toMatchObject({ code: 'KEYSTORE_BAD_PASSPHRASE' });
    }
    const config = loadConfig(h);
    expect(config).toMatchObject({
      name: 'dso-0',
      role: 'validator',
      p2p: { listen: '/ip4/10.9.0.1/tcp/26600', peers: [] },
      rpc: { host: '10.8.0.1', port: 26601 },
    });
    expect(awaitsGenesis(h)).toBe(true);
    expect(existsSync(join(h, 'genesis.json'))).toBe(false);
  });

  it('refuses to overwrite a home, and bad names, addresses and missing passphrases, each with its field', async () => {
    const h = join(dir, 'host-0', 'home');
    const before = readFileSync(join(h, 'keys', 'identity.key'), 'utf8');
    await expect(createOperatorHome({ home: h, name: 'dso-0', p2p: '/ip4/10.9.0.1/tcp/26600', passphrase: PASS, scrypt: FAST })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'home',
    });
    expect(readFileSync(join(h, 'keys', 'identity.key'), 'utf8')).toBe(before);
    const fresh = join(dir, 'never');
    const make = (over: object) => createOperatorHome({ home: fresh, name: 'ok', p2p: '/ip4/10.0.0.1/tcp/26600', passphrase: PASS, scrypt: FAST, ...over });
    await expect(make({ name: 'two words' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'name' });
    await expect(make({ p2p: '/ip4/0.0.0.0/tcp/26600' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'p2p' });
    await expect(make({ p2p: '/ip4/10.0.0.1/tcp/26600/p2p/12D3KooWNFnxVgPzRQgkY87u2FHVP7Prb2FyaijmcHccbzXWBigm' })).rejects.toMatchObject({ field: 'p2p' });
    await expect(make({ passphrase: undefined })).rejects.toMatchObject({ code: 'KEYSTORE_BAD_PASSPHRASE' });
    await expect(make({ rpc: { port: 70_000 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'config.rpc.port' });
    expect(existsSync(join(fresh, 'keys', 'identity.key'))).toBe(false);
  });

  it('exports a card (chain id given, or the home genesis) that verifies, and refuses a wrong passphrase or a missing chain id', async () => {
    const h = join(dir, 'host-0', 'home');
    const card = await exportCard(h, { chainId: CHAIN, passphrase: PASS });
    expect(parseCard(cardToJson(card), 'x')).toEqual(card);
    expect(card).toMatchObject({ chainId: CHAIN, name: 'dso-0' });
    expect(card.p2p.startsWith('/ip4/10.9.0.1/tcp/26600/p2p/12D3KooW')).toBe(true);
    expect((await exportCard(h, { chainId: CHAIN, passphrase: PASS, p2p: '/dns4/dso-0.example/tcp/443' })).p2p).toMatch(
      /^\/dns4\/dso-0\.example\/tcp\/443\/p2p\//,
    );
    await expect(exportCard(h, { passphrase: PASS })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'chainId' });
    await expect(exportCard(h, { chainId: CHAIN, passphrase: 'nope' })).rejects.toMatchObject({ code: 'KEYSTORE_BAD_PASSPHRASE' });
  });

  it('adopts only the genesis with the expected hash, then writes the other validators as static peers', async () => {
    const homes = [join(dir, 'host-0', 'home'), await home(1), await home(2), await home(3)];
    const cards = await Promise.all(homes.map((h) => exportCard(h, { chainId: CHAIN, passphrase: PASS })));
    const genesisFile = join(dir, 'genesis.json');
    const hash = writeGenesis(cards, genesisFile);
    expect(checkedGenesis(genesisFile, hash).hash).toBe(hash);

    const wrong = `0x${'00'.repeat(32)}`;
    await expect(adoptGenesis(homes[0]!, genesisFile, wrong, cards)).rejects.toMatchObject({ code: 'GENESIS_INVALID', field: 'expectHash' });
    expect(awaitsGenesis(homes[0]!)).toBe(true);
    expect(() => parseGenesisHash(hash.slice(2))).toThrow(/expectHash: must be 0x followed by 64 hex digits/);

    // A card whose keys do not match the genesis entry of its name is refused before anything is written.
    const impostor = { ...cards[1]!, identityKey: cards[2]!.identityKey };
    await expect(adoptGenesis(homes[0]!, genesisFile, hash, [impostor])).rejects.toMatchObject({ code: 'CARD_INVALID' });
    expect(awaitsGenesis(homes[0]!)).toBe(true);

    const applied = await adoptGenesis(homes[0]!, genesisFile, hash, cards);
    expect(applied).toMatchObject({ hash, inGenesis: true, joinedLater: [], withoutCard: [] });
    expect(loadConfig(homes[0]!).p2p.peers).toEqual(cards.slice(1).map((c) => c.p2p));
    expect(awaitsGenesis(homes[0]!)).toBe(false);
    await expect(adoptGenesis(homes[0]!, genesisFile, hash, cards)).rejects.toMatchObject({ field: 'home' });

    // Only three cards: the fourth validator is reported, not silently missing.
    expect(await adoptGenesis(homes[1]!, genesisFile, hash, cards.slice(0, 3))).toMatchObject({ withoutCard: ['dso-3'] });
  });

  it('a validator that joins later: peers from every card, and the later ones allowed as well', async () => {
    const late = await home(4);
    const lateCard = await exportCard(late, { chainId: CHAIN, passphrase: PASS });
    const homes = [0, 1, 2, 3].map((i) => join(dir, `host-${i}`, 'home'));
    // Homes 0 and 1 have their genesis now: the card's chain defaults to it, and another one is refused.
    const cards = await Promise.all(homes.map((h, i) => exportCard(h, i < 2 ? { passphrase: PASS } : { chainId: CHAIN, passphrase: PASS })));
    expect(cards.map((c) => c.chainId)).toEqual([CHAIN, CHAIN, CHAIN, CHAIN]);
    await expect(exportCard(homes[0]!, { chainId: 'other-chain', passphrase: PASS })).rejects.toMatchObject({ field: 'chainId' });
    const sixth = await home(5);
    const sixthCard = await exportCard(sixth, { chainId: CHAIN, passphrase: PASS });
    const hash = `0x${toHex(genesisHash(loadGenesis(join(dir, 'genesis.json'))))}`;
    const applied = await adoptGenesis(sixth, join(dir, 'genesis.json'), hash, [...cards, lateCard, sixthCard]);
    expect(applied).toMatchObject({ inGenesis: false, joinedLater: ['dso-4'] });
    const config = loadConfig(sixth);
    expect(config.p2p.peers).toEqual([...cards, lateCard].map((c) => c.p2p));
    expect(config.p2p.allowPeers).toEqual([lateCard.peerId]);

    // Re-applying a card that moved replaces the old address instead of adding a second one.
    const moved = await exportCard(late, { chainId: CHAIN, passphrase: PASS, p2p: '/ip4/10.9.9.9/tcp/26600' });
    await applyCards(sixth, [moved]);
    expect(loadConfig(sixth).p2p.peers.filter((p) => p.endsWith(lateCard.peerId))).toEqual([moved.p2p]);
    // A card for another chain is refused.
    const foreign = await exportCard(late, { chainId: 'other-chain', passphrase: PASS });
    await expect(applyCards(sixth, [foreign])).rejects.toMatchObject({ code: 'CARD_INVALID', message: expect.stringMatching(/other-chain/) });
  });
});
