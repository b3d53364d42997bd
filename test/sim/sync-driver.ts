/**
 * Block sync in the simulation: the real SyncMachine of node/sync/sync-machine.ts, with its
 * requests answered by the peer's stored chain after a network delay. Byzantine peers lie
 * here: status heights far ahead, failed or empty answers, forged certificates and tampered
 * blocks. What a node imports is checked as the node checks it (certificate, then block
 * validity); a sync ban cuts the link for BAN_MS.
 */
import { equalBytes } from '../../core/bytes.ts';
import { verifyCertificate } from '../../consensus/certificate.ts';
import { CHAIN_ID } from '../../consensus/testing/fixtures.ts';
import type { SyncAction, SyncEvent } from '../../node/sync/sync-machine.ts';
import type { Adversary } from './adversary.ts';
import { newHeight, store, type DriverWorld } from './driver.ts';
import { decodeSimBlock, encodeSimBlock, invalidReason } from './sim-chain.ts';
import { crypto, parentView, type SimNode, type Stored } from './world.ts';

const BAN_MS = 3000;

interface SyncWorld extends DriverWorld {
  readonly adversary: Adversary;
}

export function stepSync(w: SyncWorld, node: SimNode, event: SyncEvent): void {
  if (!node.up || node.sync === null) return;
  for (const a of node.sync.step(event)) syncAction(w, node, a);
}

function syncAction(w: SyncWorld, node: SimNode, a: SyncAction): void {
  const inc = node.incarnation;
  const peer = w.nodes.find((x) => x.peer === a.peer)!;
  const later = (delay: number, make: () => SyncEvent) => w.at(delay, { kind: 'sync', node: node.index, inc, event: make() });
  const reachable = peer.up && w.network.linked(node.index, peer.index);
  const delay = 1 + Math.floor(w.rnd() * (w.healed ? 10 : w.adversary.params.maxDelay));
  switch (a.type) {
    case 'request-status': {
      if (!reachable) return later(200, () => ({ type: 'status-failed', peer: a.peer, now: w.clock(node) }));
      const lie = peer.byzantine && w.rnd() < 0.6;
      const height = lie ? peer.chain.length + 1 + Math.floor(w.rnd() * 1000) : peer.chain.length;
      return later(delay, () => ({ type: 'status', peer: a.peer, height, now: w.clock(node) }));
    }
    case 'request-blocks': {
      if (!reachable || (peer.byzantine && w.rnd() < 0.3)) return later(200, () => ({ type: 'blocks-failed', peer: a.peer, now: w.clock(node) }));
      let items = peer.chain.slice(a.from - 1, a.to);
      if (peer.byzantine) items = lieInBlocks(w, items);
      node.received.set(a.peer, items);
      return later(delay, () => ({ type: 'blocks', peer: a.peer, from: a.from, count: items.length, now: w.clock(node) }));
    }
    case 'import': {
      const items = node.received.get(a.peer) ?? [];
      node.received.delete(a.peer);
      for (const item of items) {
        if (item.block.header.height <= node.chain.length) continue;
        const h = node.chain.length + 1;
        const ok =
          item.block.header.height === h &&
          item.cert.height === h &&
          equalBytes(item.cert.blockHash, item.block.digest) &&
          verifyCertificate(item.cert, node.members.set(h), CHAIN_ID, crypto) === true &&
          invalidReason(w.rules, node.members, parentView(node), item.block) === null;
        if (!ok) return stepSync(w, node, { type: 'import-invalid', peer: a.peer, now: w.clock(node), reason: 'forged certificate or invalid block' });
        store(w, node, item.block, item.cert);
      }
      if (node.machine !== null && node.machine.height <= node.chain.length) newHeight(w, node);
      return stepSync(w, node, { type: 'imported', peer: a.peer, height: node.chain.length, now: w.clock(node) });
    }
    case 'penalize':
      if (!a.ban) return;
      w.invariants.banned(node, peer, a.reason);
      w.stats.bans++;
      w.network.ban(node.index, peer.index, w.now + BAN_MS);
      return;
  }
}

/** A Byzantine peer's answer to a block request: empty, forged certificates, or tampered blocks. */
function lieInBlocks(w: SyncWorld, items: Stored[]): Stored[] {
  const r = w.rnd();
  if (r < 0.3) return [];
  if (r < 0.5 || items.length === 0) return items;
  const [first, ...rest] = items;
  if (r < 0.75) return [{ block: first!.block, cert: { ...first!.cert, aggregateSignature: first!.cert.aggregateSignature.map((b) => b ^ 1) } }, ...rest];
  const header = { ...first!.block.header, timestamp: first!.block.header.timestamp + 1 };
  return [{ block: decodeSimBlock(encodeSimBlock(header, first!.block.change)), cert: first!.cert }, ...rest];
}
