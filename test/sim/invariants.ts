/**
 * The safety invariants the simulation checks as it runs, at the moment each could first be
 * broken: no two honest nodes store different blocks at one height; every stored block's
 * certificate verifies for the set of its height and the block is valid; no honest node signs
 * two different messages for one (height, round, kind); nothing is sent before it is
 * persisted; evidence and sync bans only ever hit Byzantine nodes. (Liveness and the recovery
 * bound are the run's own end: simulation.ts.)
 */
import type { CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import type { Evidence } from '../../core/evidence.ts';
import { messageSigningBytes } from '../../core/signed-core.ts';
import { verifyCertificate } from '../../consensus/certificate.ts';
import { verifyEvidence } from '../../consensus/evidence.ts';
import type { ConsensusMessage } from '../../consensus/messages.ts';
import { CHAIN_ID } from '../../consensus/testing/fixtures.ts';
import { invalidReason, type ChainRules, type SimBlock } from './sim-chain.ts';
import { crypto, parentView, type SimNode } from './world.ts';

export class Invariants {
  private readonly rules: ChainRules;
  private readonly nodes: readonly SimNode[];
  private readonly fail: (why: string) => never;
  /** Per height, the digest of the block honest nodes stored there. */
  private readonly decided = new Map<number, string>();
  /** Per `node:height:round:kind`, the payload that honest node signed. */
  private readonly signedBy = new Map<string, string>();
  /** Messages already checked (the machine hands the same object to persist and broadcast). */
  private readonly persistedObjects = new WeakSet<ConsensusMessage>();

  constructor(rules: ChainRules, nodes: readonly SimNode[], fail: (why: string) => never) {
    this.rules = rules;
    this.nodes = nodes;
    this.fail = fail;
  }

  /** A node wrote a message it signed to its WAL. */
  signed(node: SimNode, m: ConsensusMessage): void {
    const payload = toHex(messageSigningBytes(CHAIN_ID, m));
    node.persisted.add(payload);
    this.persistedObjects.add(m);
    if (node.byzantine) return;
    const k = `${node.index}:${m.height}:${m.round}:${m.kind}`;
    const before = this.signedBy.get(k);
    if (before !== undefined && before !== payload) this.fail(`honest node ${node.index} signed two different messages at ${k}`);
    this.signedBy.set(k, payload);
  }

  /** A node is about to send a message its machine produced. */
  sending(node: SimNode, m: ConsensusMessage): void {
    if (node.byzantine || this.persistedObjects.has(m)) return;
    if (!node.persisted.has(toHex(messageSigningBytes(CHAIN_ID, m)))) this.fail(`node ${node.index} sent a message it had not persisted`);
    this.persistedObjects.add(m);
  }

  /** A committed or synced block is about to be stored as the node's next height. */
  storing(node: SimNode, block: SimBlock, cert: CommitCertificate): void {
    const h = block.header.height;
    if (h !== node.chain.length + 1 || cert.height !== h) this.fail(`node ${node.index} stored height ${h} with chain length ${node.chain.length}`);
    const ok = verifyCertificate(cert, node.members.set(h), CHAIN_ID, crypto);
    if (ok !== true || !equalBytes(cert.blockHash, block.digest)) this.fail(`node ${node.index} stored a block without a valid certificate at ${h}`);
    const why = invalidReason(this.rules, node.members, parentView(node), block);
    if (why !== null) this.fail(`node ${node.index} stored an invalid block at ${h}: ${why}`);
    if (node.byzantine) return;
    const d = toHex(block.digest);
    const before = this.decided.get(h);
    if (before !== undefined && before !== d) this.fail(`SAFETY: two blocks final at height ${h}`);
    this.decided.set(h, d);
  }

  /** The machine certified a block at a height the node has already stored. */
  certifiedStored(node: SimNode, height: number, cert: CommitCertificate): void {
    if (!equalBytes(node.chain[height - 1]!.block.digest, cert.blockHash))
      this.fail(`SAFETY: node ${node.index} certified another block at stored height ${height}`);
  }

  evidence(node: SimNode, evidence: Evidence): void {
    const ok = verifyEvidence(evidence, node.members.set(evidence.first.height), CHAIN_ID, crypto);
    if (ok !== true) this.fail(`node ${node.index} produced invalid evidence: ${ok.message}`);
    const culprit = this.nodes.find((x) => equalBytes(x.key.validator.address, evidence.first.author))!;
    if (!culprit.byzantine) this.fail(`evidence against honest node ${culprit.index}`);
  }

  /** Block sync banned `peer` for `reason`. */
  banned(node: SimNode, peer: SimNode, reason: string): void {
    if (!peer.byzantine && !node.byzantine) this.fail(`honest node ${node.index} banned honest peer ${peer.index}: ${reason}`);
  }
}
