/**
 * Direct messages between four real libp2p hosts on 127.0.0.1 (random ports) plus an
 * unknown fifth. No fixed sleeps: every wait polls a condition with a deadline.
 *
 * Every validator's subscriber answers by the payload's first byte: 0xff reject, 0xee
 * ignore, 0xdd accept after 300 ms (a slow validation), 0xcc ignore after 2.5 s (longer
 * than the 1.5 s direct timeout), anything else accept at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import type { Connection } from '@libp2p/interface';
import { ErrorCode } from '../core/errors.ts';
import { utf8 } from '../core/bytes.ts';
import { createP2PHost, type JouleLibp2p } from './node.ts';
import { peerIdFromIdentitySeed } from './identity.ts';
import { directLimits, directProtocol } from './direct.ts';
import { FrameReader, writeFrames } from './framing.ts';
import { TOPIC_KINDS } from './topics.ts';
import type { GossipVerdict, P2PNode, P2POptions, TopicKind } from './types.ts';

const CHAIN = 'joule-direct-test';
const N = 4;
const MAX_BYTES = 1024;
const PENALTY_MS = 1500;
const TIMEOUT_MS = 1500;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Host {
  node: P2PNode;
  libp2p: JouleLibp2p;
  /** Payloads delivered to the handler, per topic, as "from:hex". */
  got: Record<TopicKind, string[]>;
  /** Payloads seen by the validator, per topic, as hex. */
  validated: Record<TopicKind, string[]>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seeds = Array.from({ length: N + 1 }, (_, i) => new Uint8Array(32).fill(i + 41));
const ids = seeds.map(peerIdFromIdentitySeed);
const validatorIds = ids.slice(0, N);
const hosts: Host[] = [];
let outsider: { node: P2PNode; libp2p: JouleLibp2p };
let nextPayload = 1;
/** A payload no other test uses, starting with `first`. */
const fresh = (first = 0x01): Uint8Array => new Uint8Array([first, nextPayload >> 8, nextPayload++ & 0xff]);

function verdict(data: Uint8Array): GossipVerdict | Promise<GossipVerdict> {
  if (data[0] === 0xff) return 'reject';
  if (data[0] === 0xee) return 'ignore';
  if (data[0] === 0xdd) return new Promise((r) => setTimeout(() => r('accept'), 300));
  if (data[0] === 0xcc) return new Promise((r) => setTimeout(() => r('ignore'), 2500));
  return 'accept';
}

function options(i: number, staticPeers: string[]): P2POptions {
  return {
    chainId: CHAIN,
    identitySeed: seeds[i]!,
    listen: '/ip4/127.0.0.1/tcp/0',
    staticPeers,
    allowedPeers: validatorIds,
    maxGossipBytes: MAX_BYTES,
    penaltyMs: PENALTY_MS,
    redial: { initialMs: 100, maxMs: 400 },
    // Node 3 also takes tx batches directly; the others only consensus messages (the default).
    direct: {
      rateLimit: { ratePerSec: 1, burst: 20 },
      maxConcurrent: 2,
      maxRejects: 3,
      timeoutMs: TIMEOUT_MS,
      ...(i === 3 ? { kinds: ['consensus', 'txs'] } : {}),
    },
  };
}

const got = (h: Host, kind: TopicKind, payload: Uint8Array): string[] => h.got[kind].filter((g) => g.endsWith(`:${hex(payload)}`));

beforeAll(async () => {
  for (let i = 0; i < N; i++) {
    // Node i dials nodes 0..i-1: every pair is linked once, and every node has static peers to redial.
    const { node, libp2p } = await createP2PHost(
      options(
        i,
        hosts.map((h) => h.node.multiaddrs()[0]!),
      ),
    );
    const host: Host = { node, libp2p, got: { txs: [], consensus: [], blocks: [] }, validated: { txs: [], consensus: [], blocks: [] } };
    for (const kind of TOPIC_KINDS) {
      node.subscribe(kind, {
        validate: (data) => {
          host.validated[kind].push(hex(data));
          return verdict(data);
        },
        handle: (data, from) => host.got[kind].push(`${from}:${hex(data)}`),
      });
    }
    hosts.push(host);
  }
  outsider = await createP2PHost(options(N, [hosts[0]!.node.multiaddrs()[0]!]));
  await waitFor(() => hosts.every((h) => h.node.peerCount() === N - 1), 'full mesh of connections');
  await waitFor(() => hosts.every((h) => TOPIC_KINDS.every((k) => h.node.topicPeers(k).length === N - 1)), 'topic subscriptions');
}, 30_000);

afterAll(async () => {
  await Promise.all([...hosts.map((h) => h.node.stop()), outsider?.node.stop()]);
});

describe('direct messages (4 in-process hosts over TCP)', () => {
  it("goes through the receiver's validate and handle for that topic, from the sender, before sendDirect resolves", async () => {
    const [a, b] = [hosts[0]!, hosts[1]!];
    const p = fresh();
    await a.node.sendDirect(b.node.peerId, 'consensus', p);
    expect(b.validated.consensus).toContain(hex(p));
    expect(got(b, 'consensus', p)).toEqual([`${a.node.peerId}:${hex(p)}`]);
  });

  it('delivers identical bytes every time, even bytes gossip already carried (gossip drops them)', async () => {
    const [a, b] = [hosts[0]!, hosts[1]!];
    const p = fresh();
    await a.node.publish('consensus', p);
    await waitFor(() => got(b, 'consensus', p).length === 1, 'gossip delivery');
    // Re-publishing is silently dropped (same content id): a marker published after it
    // arrives, the copy does not.
    await a.node.publish('consensus', p);
    const marker = fresh();
    await a.node.publish('consensus', marker);
    await waitFor(() => got(b, 'consensus', marker).length === 1, 'marker');
    expect(got(b, 'consensus', p)).toHaveLength(1);
    await a.node.sendDirect(b.node.peerId, 'consensus', p);
    await a.node.sendDirect(b.node.peerId, 'consensus', p);
    expect(got(b, 'consensus', p)).toHaveLength(3);
  });

  it('is not forwarded by the receiver', async () => {
    const [a, b, c, d] = hosts as [Host, Host, Host, Host];
    const p = fresh();
    await a.node.sendDirect(b.node.peerId, 'consensus', p);
    expect(got(b, 'consensus', p)).toHaveLength(1);
    // Had b relayed p, it would have gone out on b's gossip stream to c and d ahead of this marker.
    const marker = fresh();
    await b.node.publish('consensus', marker);
    await waitFor(() => got(c, 'consensus', marker).length === 1 && got(d, 'consensus', marker).length === 1, 'marker at c and d');
    for (const h of [a, c, d]) expect(h.validated.consensus).not.toContain(hex(p));
  });

  it('reaches every connected peer with broadcastDirect', async () => {
    const p = fresh();
    expect(await hosts[2]!.node.broadcastDirect('consensus', p)).toBe(N - 1);
    for (const h of hosts) expect(got(h, 'consensus', p)).toHaveLength(h === hosts[2] ? 0 : 1);
  });

  it('takes only the kinds the receiver enabled, and only while it is subscribed', async () => {
    const [a, b, , d] = hosts as [Host, Host, Host, Host];
    const p = fresh();
    await expect(a.node.sendDirect(b.node.peerId, 'txs', p)).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMS });
    await expect(a.node.sendDirect(b.node.peerId, 'blocks', p)).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMS });
    expect(b.validated.txs.concat(b.validated.blocks)).not.toContain(hex(p));
    expect(await a.node.broadcastDirect('blocks', p)).toBe(0);
    // Node 3 enabled txs.
    await a.node.sendDirect(d.node.peerId, 'txs', p);
    expect(got(d, 'txs', p)).toHaveLength(1);
    d.node.unsubscribe('txs');
    try {
      await expect(a.node.sendDirect(d.node.peerId, 'txs', fresh())).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    } finally {
      d.node.subscribe('txs', {
        validate: (data) => {
          d.validated.txs.push(hex(data));
          return verdict(data);
        },
        handle: (data, from) => d.got.txs.push(`${from}:${hex(data)}`),
      });
    }
    await expect(a.node.sendDirect(b.node.peerId, 'nonsense' as TopicKind, p)).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMS });
  });

  it('refuses an oversized message: the sender will not send it, the receiver will not read it', async () => {
    const [b, c] = [hosts[1]!, hosts[2]!];
    const big = new Uint8Array(MAX_BYTES + 1).fill(7);
    await expect(c.node.sendDirect(b.node.peerId, 'consensus', big)).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMS });
    // A sender that skips its own check gets a bad-request answer, read from the length prefix.
    const stream = await c.libp2p.dialProtocol(b.libp2p.peerId, directProtocol(CHAIN));
    await writeFrames(stream, [utf8('consensus'), big]);
    await stream.close();
    const answer = await new FrameReader(stream).next(300);
    expect(answer?.[0]).toBe(2);
    expect(new TextDecoder().decode(answer!.subarray(1))).toMatch(/too large/);
    expect(b.validated.consensus).not.toContain(hex(big));
  });

  it('drops messages over the per-peer rate without reading them; other peers keep their budget', async () => {
    const [b, c] = [hosts[1]!, hosts[2]!];
    const sent: { p: Uint8Array; outcome: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const p = fresh();
      sent.push({
        p,
        outcome: await c.node.sendDirect(b.node.peerId, 'consensus', p).then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
      });
    }
    expect(sent.map((s) => s.outcome)).toContain(ErrorCode.RATE_LIMITED);
    expect(sent.filter((s) => s.outcome !== 'ok' && s.outcome !== ErrorCode.RATE_LIMITED)).toEqual([]);
    for (const { p, outcome } of sent) expect(b.validated.consensus.includes(hex(p))).toBe(outcome === 'ok');
    await hosts[0]!.node.sendDirect(b.node.peerId, 'consensus', fresh());
  });

  it('queues a burst at the sender so it never exceeds the receiver stream limit', async () => {
    const [a, c] = [hosts[0]!, hosts[2]!];
    // Each validation takes 300 ms and only 2 streams may be open at once per connection.
    const burst = Array.from({ length: 6 }, () => fresh(0xdd));
    await Promise.all(burst.map((p) => a.node.sendDirect(c.node.peerId, 'consensus', p)));
    for (const p of burst) expect(got(c, 'consensus', p)).toHaveLength(1);
  });

  it('uses the newest connection to a peer, and says so with peer:connect when it opens', async () => {
    const [a, b] = [hosts[0]!, hosts[1]!];
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    const offs = [a.node.on('peer:connect', (p) => seenByA.push(p)), b.node.on('peer:connect', (p) => seenByB.push(p))];
    const [old] = a.libp2p.getConnections(b.libp2p.peerId) as [Connection];
    // b redials a while a's connection to it is still up (a dead link a has not noticed yet
    // looks just like this): libp2p's own peer:connect stays silent, ours must not.
    const added = await b.libp2p.dial(multiaddr(a.node.multiaddrs()[0]!), { force: true });
    await waitFor(() => seenByA.includes(b.node.peerId) && seenByB.includes(a.node.peerId), 'peer:connect for the second connection');
    expect(a.libp2p.getConnections(b.libp2p.peerId)).toHaveLength(2);
    // The old connection goes dead: a stream opened on it never gets an answer.
    const newStream = old.newStream.bind(old);
    old.newStream = (_protocols, opts) => new Promise((_, reject) => opts?.signal?.addEventListener('abort', () => reject(new Error('dead link'))));
    try {
      const p = fresh();
      await a.node.sendDirect(b.node.peerId, 'consensus', p);
      expect(got(b, 'consensus', p)).toHaveLength(1);
    } finally {
      old.newStream = newStream;
      offs.forEach((off) => off());
      await added.close();
    }
  });

  it('a connection that comes back fires peer:connect on both sides, in time for a re-send', async () => {
    const [a, c] = [hosts[0]!, hosts[2]!];
    const resent: Uint8Array[] = [];
    const seenByC: string[] = [];
    // What the consensus driver will do: re-send on (re)connect.
    const offA = a.node.on('peer:connect', (peer) => {
      if (peer !== c.node.peerId) return;
      const p = fresh();
      resent.push(p);
      void a.node.sendDirect(peer, 'consensus', p);
    });
    const offC = c.node.on('peer:connect', (peer) => seenByC.push(peer));
    let down = false;
    const offDown = a.node.on('peer:disconnect', (peer) => (down ||= peer === c.node.peerId));
    try {
      for (const conn of a.libp2p.getConnections(c.libp2p.peerId)) conn.abort(new Error('link lost'));
      await waitFor(() => down, 'link down');
      // c's static dialer brings it back.
      await waitFor(() => resent.length > 0 && got(c, 'consensus', resent[0]!).length === 1, 're-send delivered after reconnect');
      expect(seenByC).toContain(a.node.peerId);
    } finally {
      offA();
      offC();
      offDown();
    }
  });

  it('drops a connection that leaves a direct message unanswered, so a stalled link is replaced at once', async () => {
    const [a, b] = [hosts[0]!, hosts[1]!];
    const events: string[] = [];
    const offs = [
      a.node.on('peer:disconnect', (p) => p === b.node.peerId && events.push('down')),
      a.node.on('peer:connect', (p) => p === b.node.peerId && events.push('up')),
    ];
    try {
      const started = Date.now();
      await expect(a.node.sendDirect(b.node.peerId, 'consensus', fresh(0xcc))).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS);
      // b's static dialer brings the link straight back.
      await waitFor(() => events[0] === 'down' && events.includes('up'), 'drop and reconnect');
      const p = fresh();
      await a.node.sendDirect(b.node.peerId, 'consensus', p);
      expect(got(b, 'consensus', p)).toHaveLength(1);
    } finally {
      offs.forEach((off) => off());
    }
  });

  it('the receiver gives up on a sender that opens a stream and sends nothing', async () => {
    const [b, c] = [hosts[1]!, hosts[2]!];
    const stream = await c.libp2p.dialProtocol(b.libp2p.peerId, directProtocol(CHAIN));
    const opened = Date.now();
    // The receiver's deadline resets the stream; reading then ends or fails.
    await new FrameReader(stream).next(300).catch(() => null);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(c.node.peers()).toContain(b.node.peerId); // a timeout is not an offence
  });

  it("'ignore' costs nothing; a few rejects within the window ban the sender until the penalty lifts", async () => {
    const [b, d] = [hosts[1]!, hosts[3]!];
    const upAtB: number[] = [];
    const upAtD: number[] = [];
    const offs = [
      b.node.on('peer:connect', (p) => p === d.node.peerId && upAtB.push(Date.now())),
      d.node.on('peer:connect', (p) => p === b.node.peerId && upAtD.push(Date.now())),
    ];
    try {
      for (let i = 0; i < 6; i++) await d.node.sendDirect(b.node.peerId, 'consensus', fresh(0xee));
      await d.node.sendDirect(b.node.peerId, 'consensus', fresh(0xff));
      await d.node.sendDirect(b.node.peerId, 'consensus', fresh(0xff));
      expect(b.node.peers()).toContain(d.node.peerId);
      const bannedAt = Date.now();
      await d.node.sendDirect(b.node.peerId, 'consensus', fresh(0xff)); // the third reject
      await waitFor(() => !b.node.peers().includes(d.node.peerId) && !d.node.peers().includes(b.node.peerId), 'ban');
      expect(b.got.consensus.filter((g) => g.startsWith(`${d.node.peerId}:ff`) || g.startsWith(`${d.node.peerId}:ee`))).toEqual([]);
      const p = fresh();
      await expect(d.node.sendDirect(b.node.peerId, 'consensus', p)).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
      expect(b.validated.consensus).not.toContain(hex(p));
      // d redials b (a static peer) and gets back in once the ban lifts; both sides hear of it.
      await waitFor(() => upAtB.length > 0 && upAtD.length > 0, 'reconnect after the ban', 15_000);
      expect(upAtB[0]! - bannedAt).toBeGreaterThanOrEqual(PENALTY_MS);
      await d.node.sendDirect(b.node.peerId, 'consensus', p);
      expect(got(b, 'consensus', p)).toHaveLength(1);
    } finally {
      offs.forEach((off) => off());
    }
  });

  it('cannot be sent by a peer that is not allow-listed', async () => {
    const p = fresh();
    await expect(outsider.node.sendDirect(hosts[0]!.node.peerId, 'consensus', p)).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    expect(await outsider.node.broadcastDirect('consensus', p)).toBe(0);
    for (const h of hosts) expect(h.validated.consensus).not.toContain(hex(p));
  });
});

describe('directLimits', () => {
  it('fills in the defaults: consensus messages only', () => {
    expect(directLimits({ timeoutMs: undefined })).toMatchObject({ kinds: ['consensus'], timeoutMs: 5000, maxConcurrent: 8 });
  });

  it('refuses an unknown kind or a non-positive bound, naming the field', () => {
    expect(() => directLimits({ kinds: ['consensus', 'votes' as TopicKind] })).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID, field: 'direct.kinds[1]' }),
    );
    expect(() => directLimits({ rateLimit: { ratePerSec: 0, burst: 1 } })).toThrow(expect.objectContaining({ field: 'direct.rateLimit.ratePerSec' }));
    expect(() => directLimits({ maxConcurrent: 1.5 })).toThrow(expect.objectContaining({ field: 'direct.maxConcurrent' }));
    expect(() => directLimits({ maxQueued: -1 })).toThrow(expect.objectContaining({ field: 'direct.maxQueued' }));
  });
});
