import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { blsFromSecret, ed25519FromSeed } from '../../core/keys.ts';
import { verifyProofOfPossession } from '../../core/pop.ts';
import { peerIdFromIdentityKey } from '../../p2p/identity.ts';
import { cardToJson, checkCard, checkP2pAddress, makeCard, parseCard, type CardJson } from './card.ts';

const seed = new Uint8Array(32).fill(7);
const blsSecret = new Uint8Array(32).fill(9);
const identity = ed25519FromSeed(seed);
const peerId = peerIdFromIdentityKey(identity.publicKey);
const card = makeCard({ chainId: 'grid-main', name: 'dso-north', identitySeed: seed, blsSecret, p2p: '/ip4/203.0.113.7/tcp/26600' });
const json = (): CardJson => structuredClone(cardToJson(card));

function problemAt(edit: (c: any) => void, path: string, message?: RegExp): void {
  const c = json();
  edit(c);
  const { problems, card: parsed } = checkCard(c);
  expect(parsed).toBeUndefined();
  const hit = problems.find((p) => p.path === path);
  expect(hit, `expected a problem at ${path}, got ${JSON.stringify(problems)}`).toBeDefined();
  if (message !== undefined) expect(hit!.message).toMatch(message);
}

describe('validator cards', () => {
  it('carries the public keys, a proof of possession for its chain, and the dialable address with the peer id', () => {
    expect(card.p2p).toBe(`/ip4/203.0.113.7/tcp/26600/p2p/${peerId}`);
    expect(toHex(card.identityKey)).toBe(toHex(identity.publicKey));
    expect(toHex(card.blsKey)).toBe(toHex(blsFromSecret(blsSecret).publicKey));
    expect(verifyProofOfPossession('grid-main', card.blsKey, card.identityKey, card.blsProofOfPossession)).toBe(true);
    expect(Object.keys(cardToJson(card)).sort()).toEqual(['address', 'blsKey', 'blsProofOfPossession', 'chainId', 'format', 'identityKey', 'name', 'p2p']);
    expect(checkCard(json())).toMatchObject({ problems: [], card: { name: 'dso-north', peerId } });
  });

  it('holds no secret byte', () => {
    const text = JSON.stringify(cardToJson(card)).toLowerCase();
    for (const secret of [seed, blsSecret]) {
      expect(text).not.toContain(toHex(secret));
      expect(text).not.toContain(Buffer.from(secret).toString('base64').toLowerCase());
      // Not even a fragment long enough to matter (8 bytes).
      for (let i = 0; i + 8 <= secret.length; i++) expect(text).not.toContain(toHex(secret.subarray(i, i + 8)));
    }
  });

  it('reports every problem at its field', () => {
    const other = makeCard({
      chainId: 'grid-main',
      name: 'dso-south',
      identitySeed: new Uint8Array(32).fill(8),
      blsSecret: new Uint8Array(32).fill(10),
      p2p: '/dns4/south.example/tcp/26600',
    });
    const otherJson = cardToJson(other);
    problemAt((c) => (c.blsProofOfPossession = otherJson.blsProofOfPossession), 'blsProofOfPossession', /does not verify/);
    problemAt((c) => (c.chainId = 'grid-test'), 'blsProofOfPossession', /does not verify.*grid-test/);
    problemAt((c) => (c.blsKey = otherJson.blsKey), 'blsProofOfPossession', /does not verify/);
    problemAt((c) => (c.address = otherJson.address), 'address', /does not match identityKey/);
    problemAt((c) => (c.identityKey = otherJson.identityKey), 'address', /does not match identityKey/);
    problemAt((c) => (c.identityKey = `0x${'ff'.repeat(32)}`), 'identityKey', /Ed25519/);
    problemAt((c) => (c.blsKey = `0x${'ab'.repeat(48)}`), 'blsKey', /G1/);
    problemAt((c) => (c.blsKey = 'ab'.repeat(48)), 'blsKey', /0x-prefixed hex/);
    problemAt((c) => (c.name = 'dso north'), 'name');
    problemAt((c) => (c.chainId = 'Grid_Main'), 'chainId');
    problemAt((c) => (c.format = 'joule-validator-card/2'), 'format', /joule-validator-card\/1/);
    problemAt((c) => (c.secret = '0x00'), 'secret', /unknown field/);
    problemAt((c) => (c.p2p = otherJson.p2p), 'p2p', /identityKey's peer id is/);
    problemAt((c) => (c.p2p = '/ip4/203.0.113.7/tcp/26600'), 'p2p', /must end with \/p2p/);
    problemAt((c) => (c.p2p = `/ip4/0.0.0.0/tcp/26600/p2p/${peerId}`), 'p2p', /any address/);
    problemAt((c) => (c.p2p = `/ip4/203.0.113.7/udp/26600/p2p/${peerId}`), 'p2p', /tcp/);
    problemAt((c) => (c.p2p = 'not a multiaddr'), 'p2p', /not a multiaddr/);
    problemAt((c) => delete c.p2p, 'p2p', /multiaddr string/);
    expect(checkCard([1, 2]).problems).toEqual([{ path: '$', message: expect.stringMatching(/JSON object/) }]);
  });

  it('parseCard throws CARD_INVALID naming the source and every problem', () => {
    const c = json() as any;
    c.name = '';
    c.p2p = '/ip4/1.2.3.4/tcp/1';
    try {
      parseCard(c, 'dso-north.card.json');
      expect.unreachable();
    } catch (e: any) {
      expect(e.code).toBe('CARD_INVALID');
      expect(e.message).toMatch(/^dso-north\.card\.json is not a valid validator card \(2 problems\):\n {2}name: /);
      expect(e.message).toContain('p2p: must end with /p2p/');
    }
  });

  it('refuses to make a card with a bad address or a foreign peer id', () => {
    const mk = (p2p: string) => () => makeCard({ chainId: 'grid-main', name: 'dso-north', identitySeed: seed, blsSecret, p2p });
    expect(mk('/ip4/0.0.0.0/tcp/26600')).toThrow(/p2p: 0\.0\.0\.0 is "any address"/);
    expect(mk('/ip4/10.0.0.1/tcp/0')).toThrow(/port 0/);
    expect(mk(`/ip4/10.0.0.1/tcp/26600/p2p/${peerIdFromIdentityKey(ed25519FromSeed(new Uint8Array(32).fill(3)).publicKey)}`)).toThrow(/not this node's/);
    expect(mk(`/ip4/10.0.0.1/tcp/26600/p2p/${peerId}`)().p2p).toBe(`/ip4/10.0.0.1/tcp/26600/p2p/${peerId}`);
    expect(() => makeCard({ chainId: 'grid-main', name: 'no spaces allowed', identitySeed: seed, blsSecret, p2p: '/ip4/10.0.0.1/tcp/1' })).toThrow(
      /the card is not a valid validator card \(1 problem\):\n {2}name: must match/,
    );
  });

  it('checkP2pAddress accepts ip4, ip6 and dns hosts', () => {
    expect(checkP2pAddress('/ip6/2001:db8::1/tcp/26600')).toEqual({ base: '/ip6/2001:db8::1/tcp/26600' });
    expect(checkP2pAddress('/dns/validator.dso.example/tcp/26600')).toEqual({ base: '/dns/validator.dso.example/tcp/26600' });
    expect(checkP2pAddress('/ip6/::/tcp/26600').problem).toMatch(/any address/);
    expect(checkP2pAddress(42).problem).toMatch(/multiaddr string/);
  });
});
