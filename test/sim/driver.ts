/**
 * One node of the simulation as node/consensus/driver.ts runs it: a real QbftMachine whose
 * actions are carried out in virtual time (persist to the WAL, send, time out, build and
 * validate blocks against the local clock, store what is committed), and the node's life:
 * start, crash (also between a WAL write and the send after it), restart from the WAL, and
 * the exchange of what it signed when a peer becomes reachable again. Byzantine nodes run
 * the same machine; what they send instead is byzantine.ts.
 */
import type { CommitCertificate } from '../../core/block.ts';
import { QbftMachine } from '../../consensus/machine.ts';
import { CHAIN_ID } from '../../consensus/testing/fixtures.ts';
import type { ConsensusAction, ConsensusEvent } from '../../consensus/types.ts';
import { decodeWalRecord } from '../../consensus/wal-record.ts';
import { SyncMachine, type SyncEvent } from '../../node/sync/sync-machine.ts';
import { byzantineRewrite, type ByzantineNode, type ByzantineWorld } from './byzantine.ts';
import type { Invariants } from './invariants.ts';
import type { Network } from './network.ts';
import {
  applyChange,
  decodeSimBlock,
  encodeSimBlock,
  invalidReason,
  makeHeader,
  MemberHistory,
  type ChainRules,
  type SetChange,
  type SimBlock,
} from './sim-chain.ts';
import { crypto, parentView, TIMEOUT_MS, type SimEvent, type SimNode, type SimResult } from './world.ts';

const BLOCK_PERIOD_MS = 150;

/** What the drivers (this file and sync-driver.ts) need from the simulation. */
export interface DriverWorld extends ByzantineWorld {
  readonly nodes: readonly SimNode[];
  readonly rules: ChainRules;
  readonly network: Network;
  readonly invariants: Invariants;
  readonly stats: SimResult;
  readonly now: number;
  readonly healed: boolean;
  /** The chance, per WAL write before the heal, that the node crashes before the send after it. */
  readonly crashMidStep: number;
  at(delay: number, e: SimEvent): void;
  /** The node's local clock (skewed). */
  clock(node: SimNode): number;
  fail(why: string): never;
  stepSync(node: SimNode, event: SyncEvent): void;
  /** An honest node stored `height`: the run measures its recovery from these. */
  finalised(node: SimNode, height: number): void;
}

/** Boots the node from its stored chain and WAL, and tells its sync machine whom it reaches. */
export function start(w: DriverWorld, node: SimNode): void {
  node.members = new MemberHistory(w.rules);
  node.chain.forEach((s, i) => node.members.stored(i + 1, s.block.change));
  node.machine = new QbftMachine({ chainId: CHAIN_ID, signer: node.key.signer, requestTimeoutMs: TIMEOUT_MS, crypto });
  node.sync = new SyncMachine({ maxBlocksPerRequest: 16, statusIntervalMs: 300, requestTimeoutMs: 200, backoffMs: 200, maxBackoffMs: 3000 });
  const h = node.chain.length + 1;
  node.heightSince = w.now;
  const wal = node.wal.map((r) => decodeWalRecord(r.bytes));
  stepNode(w, node, { type: 'start', height: h, validators: node.members.set(h), previousProposer: node.chain.at(-1)?.block.header.proposer ?? null, wal });
  for (const o of w.nodes)
    if (o !== node && w.network.linked(node.index, o.index)) w.stepSync(node, { type: 'peer-connected', peer: o.peer, now: w.clock(node) });
}

export function stepNode(w: DriverWorld, node: SimNode, event: ConsensusEvent): void {
  if (!node.up || node.machine === null) return;
  execute(w, node, node.machine.step(event));
}

/** Byzantine nodes never crash: they stay, and keep lying, to the end. */
export function crash(w: DriverWorld, node: SimNode): void {
  if (!node.up || node.byzantine) return;
  stop(node);
  w.stats.crashes++;
}

/** Stops any node, a Byzantine one too (its operator restarts it for an emergency transition); its WAL and chain stay. */
export function stop(node: SimNode): void {
  if (!node.up) return;
  node.up = false;
  node.machine = null;
  node.sync = null;
  node.received.clear();
  node.incarnation++;
}

/** Restarts a stopped node (never a lost one); the peers that reach it re-send what they signed, as on a new connection. */
export function restart(w: DriverWorld, node: SimNode): void {
  if (node.up || w.rules.lost.has(node.index)) return;
  node.up = true;
  start(w, node);
  for (const o of w.nodes) {
    if (o === node || !w.network.linked(o.index, node.index)) continue;
    resend(w, o, [node.index]);
    w.stepSync(o, { type: 'peer-connected', peer: node.peer, now: w.clock(o) });
  }
}

/** Peers that can reach each other again exchange what they signed (the driver's peer:connect). */
export function reconnected(w: DriverWorld, before: number[] | null, after: number[] | null): void {
  const split = (g: number[] | null, a: number, b: number) => g !== null && g[a] !== g[b];
  for (const node of w.nodes) {
    const back = w.nodes.filter((o) => o !== node && split(before, node.index, o.index) && !split(after, node.index, o.index)).map((o) => o.index);
    if (back.length === 0) continue;
    resend(w, node, back);
    for (const o of back) w.stepSync(node, { type: 'peer-connected', peer: w.nodes[o]!.peer, now: w.clock(node) });
  }
}

function execute(w: DriverWorld, node: SimNode, actions: ConsensusAction[]): void {
  const inc = node.incarnation;
  for (const a of actions) {
    if (!node.up || node.incarnation !== inc) return; // crashed mid-step: the rest is lost
    switch (a.type) {
      case 'persist':
        persist(w, node, a);
        break;
      case 'broadcast':
        w.invariants.sending(node, a.message);
        if (!node.byzantine) {
          w.network.broadcast(node.index, a.bytes, a.message);
          break;
        }
        for (const o of w.nodes) {
          if (o === node) continue;
          const bytes = byzantineRewrite(w, byzView(node), a.message, a.bytes);
          if (bytes !== null) w.send(node.index, o.index, bytes);
        }
        break;
      case 'resend':
        w.invariants.sending(node, a.message);
        w.network.sendTo(node.index, node.resendTo ?? [], a.bytes, a.message);
        break;
      case 'schedule-timeout':
        w.at(a.ms, { kind: 'step', node: node.index, inc, event: { type: 'timeout', height: a.height, round: a.round } });
        break;
      case 'validate':
        validate(w, node, a.height, a.digest, a.block, a.certified);
        break;
      case 'propose': {
        const wait = a.round === 0 ? Math.max(0, (node.chain.at(-1)?.block.header.timestamp ?? 0) + BLOCK_PERIOD_MS - w.clock(node)) : 0;
        w.at(1 + wait + Math.floor(w.rnd() * 20), {
          kind: 'step',
          node: node.index,
          inc,
          event: { type: 'block-proposed', height: a.height, round: a.round, block: buildBlock(w, node, a.height, a.round) },
        });
        break;
      }
      case 'commit':
        if (a.height <= node.chain.length) {
          w.invariants.certifiedStored(node, a.height, a.certificate);
          break;
        }
        store(w, node, decodeSimBlock(a.block), a.certificate);
        w.stats.commits++;
        newHeight(w, node);
        return;
      case 'evidence':
        w.stats.evidence++;
        w.invariants.evidence(node, a.evidence);
        break;
      case 'sync-needed':
        w.stepSync(node, { type: 'behind', now: w.clock(node), height: node.chain.length });
        break;
      case 'refused':
        w.stats.refused++;
        break;
      case 'verdict':
        break;
    }
  }
}

function persist(w: DriverWorld, node: SimNode, a: Extract<ConsensusAction, { type: 'persist' }>): void {
  node.wal.push({ height: a.height, bytes: a.bytes });
  if (a.record.type === 'signed') w.invariants.signed(node, a.record.message);
  if (!w.healed && w.rnd() < w.crashMidStep) {
    crash(w, node); // crash between the WAL write and the send
    w.at(50 + Math.floor(w.rnd() * 500), { kind: 'restart', node: node.index });
  }
}

/** A proposal: sometimes with a validator-set vote, when the vote is allowed. */
function buildBlock(w: DriverWorld, node: SimNode, height: number, round: number): Uint8Array {
  const parent = parentView(node);
  const timestamp = Math.max(w.clock(node), (parent.header?.timestamp ?? 0) + 1);
  let change: SetChange | null = null;
  if (w.rnd() < 0.12) {
    const candidate: SetChange = { op: w.rnd() < 0.5 ? 'add' : 'remove', index: Math.floor(w.rnd() * w.size) };
    if (applyChange(w.rules, node.members.at(height), candidate, height) !== null) change = candidate;
  }
  return encodeSimBlock(makeHeader(height, round, parent, node.members.set(height), node.key.validator.address, timestamp, node.index * 1000 + round), change);
}

/** The driver's validation: clock-free rules, then (live proposals only) the clock, held or 'premature'. */
export function validate(w: DriverWorld, node: SimNode, height: number, digest: Uint8Array, bytes: Uint8Array, certified: boolean): void {
  const inc = node.incarnation;
  let verdict: 'valid' | 'invalid' | 'premature' = 'valid';
  let block: SimBlock | null = null;
  try {
    block = decodeSimBlock(bytes);
  } catch {
    verdict = 'invalid';
  }
  if (block !== null && (height !== node.chain.length + 1 || invalidReason(w.rules, node.members, parentView(node), block) !== null)) verdict = 'invalid';
  if (verdict === 'valid' && !certified) {
    const ahead = block!.header.timestamp - (w.clock(node) + w.rules.maxClockDriftMs);
    if (ahead > 0 && ahead <= TIMEOUT_MS) {
      w.at(ahead, { kind: 'held-validate', node: node.index, inc, height, digest, block: bytes });
      return;
    }
    if (ahead > 0) {
      verdict = 'premature';
      w.stats.premature++;
    }
  }
  w.at(1 + Math.floor(w.rnd() * 5), { kind: 'step', node: node.index, inc, event: { type: 'validated', height, digest, verdict } });
}

/** Stores a committed or synced block, once the invariants have checked it. */
export function store(w: DriverWorld, node: SimNode, block: SimBlock, cert: CommitCertificate): void {
  w.invariants.storing(node, block, cert);
  const h = block.header.height;
  if (!node.byzantine) w.finalised(node, h);
  if (block.change !== null) w.stats.setChanges++;
  node.chain.push({ block, cert });
  node.members.stored(h, block.change);
  node.heightSince = w.now;
  node.wal = node.wal.filter((r) => r.height > h); // the driver prunes on every head advance
}

export function newHeight(w: DriverWorld, node: SimNode): void {
  const h = node.chain.length + 1;
  stepNode(w, node, { type: 'new-height', height: h, validators: node.members.set(h), previousProposer: node.chain.at(-1)!.block.header.proposer });
}

/** Steps the machine's 'resend'; what it re-sends goes to `to` only. */
export function resend(w: DriverWorld, node: SimNode, to: number[]): void {
  node.resendTo = to.filter((o) => o !== node.index);
  stepNode(w, node, { type: 'resend' });
  node.resendTo = null;
}

/** What byzantine.ts may see of a Byzantine node. */
export function byzView(node: SimNode): ByzantineNode {
  return {
    index: node.index,
    key: node.key,
    captured: node.captured,
    view: () => {
      if (node.machine === null) return null;
      const h = node.chain.length + 1;
      return { height: h, round: node.machine.currentRound, parent: parentView(node), members: node.members.at(h), set: node.members.set(h) };
    },
  };
}
