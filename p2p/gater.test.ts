import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { createGater, PeerBans } from './gater.ts';
import { parsePeerId, peerIdFromIdentitySeed } from './identity.ts';
import { PeerRateLimiter } from './rate-limit.ts';

describe('gater', () => {
  const known = peerIdFromIdentitySeed(new Uint8Array(32).fill(1));
  const unknown = peerIdFromIdentitySeed(new Uint8Array(32).fill(2));
  let now = 1_000;
  const bans = new PeerBans(() => now);
  const denied: string[] = [];
  const g = createGater(new Set([known]), bans, (p, where) => denied.push(`${where}:${p}`));
  const conn = {} as never;

  it('admits only allow-listed peers at every hook that knows the peer id', async () => {
    expect(await g.denyDialPeer!(parsePeerId(known))).toBe(false);
    expect(await g.denyDialPeer!(parsePeerId(unknown))).toBe(true);
    expect(await g.denyInboundEncryptedConnection!(parsePeerId(known), conn)).toBe(false);
    expect(await g.denyInboundEncryptedConnection!(parsePeerId(unknown), conn)).toBe(true);
    expect(await g.denyOutboundEncryptedConnection!(parsePeerId(unknown), conn)).toBe(true);
    expect(await g.denyDialMultiaddr!(multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${unknown}`))).toBe(true);
    expect(await g.denyDialMultiaddr!(multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${known}`))).toBe(false);
    // No peer id in the address: decided after the handshake instead.
    expect(await g.denyDialMultiaddr!(multiaddr('/ip4/127.0.0.1/tcp/1'))).toBe(false);
    expect(await g.filterMultiaddrForPeer!(parsePeerId(unknown), multiaddr('/ip4/127.0.0.1/tcp/1'))).toBe(false);
    expect(denied.every((d) => d.endsWith(unknown))).toBe(true);
  });

  it('bans a known peer for a while, then lets it back', async () => {
    bans.ban(known, 500);
    expect(bans.remainingMs(known)).toBe(500);
    expect(await g.denyInboundEncryptedConnection!(parsePeerId(known), conn)).toBe(true);
    now += 500;
    expect(bans.isBanned(known)).toBe(false);
    expect(await g.denyDialPeer!(parsePeerId(known))).toBe(false);
  });
});

describe('rate limiter', () => {
  it('allows a burst, then the refill rate, per peer', () => {
    let now = 0;
    const rl = new PeerRateLimiter({ ratePerSec: 2, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => rl.tryTake('a'))).toEqual([true, true, true, false]);
    expect(rl.tryTake('b')).toBe(true); // independent buckets
    now += 500; // one token back
    expect(rl.tryTake('a')).toBe(true);
    expect(rl.tryTake('a')).toBe(false);
    now += 10_000; // capped at burst
    expect([1, 2, 3, 4].map(() => rl.tryTake('a'))).toEqual([true, true, true, false]);
  });
});
