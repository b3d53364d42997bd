import { describe, expect, it } from 'vitest';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ed25519FromSeed } from '../core/keys.ts';
import { isJouleError } from '../core/errors.ts';
import { libp2pPrivateKeyFromSeed, parsePeerId, peerIdFromIdentityKey, peerIdFromIdentitySeed } from './identity.ts';

describe('identity', () => {
  const seed = new Uint8Array(32).map((_, i) => i + 1);

  it('maps a genesis identity key to the same peer id libp2p derives from the private key', () => {
    const { publicKey } = ed25519FromSeed(seed);
    const fromKey = peerIdFromIdentityKey(publicKey);
    expect(fromKey).toMatch(/^12D3KooW/);
    expect(peerIdFromIdentitySeed(seed)).toBe(fromKey);
    expect(peerIdFromPrivateKey(libp2pPrivateKeyFromSeed(seed)).toString()).toBe(fromKey);
  });

  it('is deterministic and distinct per key', () => {
    const other = new Uint8Array(32).fill(9);
    expect(peerIdFromIdentitySeed(seed)).toBe(peerIdFromIdentitySeed(new Uint8Array(seed)));
    expect(peerIdFromIdentitySeed(other)).not.toBe(peerIdFromIdentitySeed(seed));
  });

  it('rejects wrong lengths and garbage with typed errors', () => {
    for (const f of [() => peerIdFromIdentityKey(new Uint8Array(31)), () => peerIdFromIdentitySeed(new Uint8Array(33)), () => parsePeerId('not-a-peer-id')]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isJouleError(e)).toBe(true);
      }
    }
  });
});
