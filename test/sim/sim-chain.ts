/**
 * The simulated chain's rules: tiny real blocks (real encoding, real hashes) whose only
 * payload is an optional validator-set change, the validator set of every height (votes
 * carried by blocks, plus scheduled transitions), and block validation with the same header
 * rules as node/blocks/block-verifier.ts: parent link, height, set hash, the scheduled proposer of
 * the header's round, increasing timestamps, and (for live proposals only) the local clock.
 */
import { blockHash, decodeBlock, encodeBlock, type BlockHeader } from '../../core/block.ts';
import { equalBytes } from '../../core/bytes.ts';
import { decode, encode, readArray, readUint } from '../../core/codec.ts';
import { ZERO_HASH } from '../../core/hash.ts';
import { maxFaulty, ValidatorSet, type Validator } from '../../core/validators.ts';
import { proposerOf } from '../../consensus/proposer.ts';
import { CHAIN_ID } from '../../consensus/testing/fixtures.ts';

/** Add or remove universe member `index` (applies from the next height). */
export interface SetChange {
  readonly op: 'add' | 'remove';
  readonly index: number;
}

export interface SimBlock {
  readonly bytes: Uint8Array;
  readonly header: BlockHeader;
  readonly digest: Uint8Array;
  readonly change: SetChange | null;
}

export function encodeSimBlock(header: BlockHeader, change: SetChange | null): Uint8Array {
  const txs = change === null ? [] : [encode([change.op === 'add' ? 0 : 1, change.index])];
  return encodeBlock({ header: { ...header, txCount: txs.length }, txs });
}

/** Throws on anything that is not a well-formed simulated block. */
export function decodeSimBlock(bytes: Uint8Array): SimBlock {
  const { header, txs } = decodeBlock(bytes);
  if (txs.length > 1) throw new Error('more than one set change');
  let change: SetChange | null = null;
  if (txs.length === 1) {
    const f = readArray(decode(txs[0]!, 'change'), 'change', 2);
    const op = readUint(f[0]!, 'change.op');
    if (op > 1) throw new Error('bad change op');
    change = { op: op === 0 ? 'add' : 'remove', index: readUint(f[1]!, 'change.index') };
  }
  return { bytes, header, digest: blockHash(header), change };
}

/** What every node of one simulation agrees on before it starts. */
export interface ChainRules {
  readonly universe: readonly Validator[];
  readonly byzantine: ReadonlySet<number>;
  readonly initial: readonly number[];
  /** height -> member indexes: a scheduled emergency transition (known to every node in advance). */
  readonly transitions: ReadonlyMap<number, readonly number[]>;
  /**
   * Validators lost for good in an emergency transition (simulation.ts, emergency.ts), each
   * with the transition's height: never restarted, so no set a block from that height on
   * makes may include them (no honest proposer votes a dead validator in). Blocks below it
   * were judged without it, and every node must judge them the same whenever it replays them.
   */
  readonly lost: ReadonlyMap<number, number>;
  readonly maxClockDriftMs: number;
}

/** The rules as the simulation holds them: an emergency transition (emergency.ts) rewrites the transitions and adds lost validators as the run plays out. */
export interface MutableChainRules extends ChainRules {
  readonly transitions: Map<number, readonly number[]>;
  readonly lost: Map<number, number>;
}

/**
 * Sets by universe size and members, shared by every run of a process. The size is part of
 * the key: a universe is testValidators(size), indexed in its own sorted order, so an index
 * names another key in a cluster of another size.
 */
const setCache = new Map<string, ValidatorSet>();
export function setOf(rules: ChainRules, members: readonly number[]): ValidatorSet {
  const key = `${rules.universe.length}:${[...members].sort((a, b) => a - b).join(',')}`;
  let s = setCache.get(key);
  if (s === undefined) setCache.set(key, (s = new ValidatorSet(members.map((i) => rules.universe[i]!))));
  return s;
}

/** The fault assumption every set a block at `height` makes must keep: at most f Byzantine members, and none lost by then. */
export function withinFaultBound(rules: ChainRules, members: readonly number[], height: number): boolean {
  if (members.some((i) => (rules.lost.get(i) ?? Infinity) <= height)) return false;
  return members.filter((i) => rules.byzantine.has(i)).length <= maxFaulty(members.length);
}

/** A change carried by a block at `height` is legal if it changes something and the resulting set keeps the fault bound. */
export function applyChange(rules: ChainRules, members: readonly number[], change: SetChange, height: number): number[] | null {
  if (change.index >= rules.universe.length) return null;
  const has = members.includes(change.index);
  if (change.op === 'add' && has) return null;
  if (change.op === 'remove' && (!has || members.length === 1)) return null;
  const next = change.op === 'add' ? [...members, change.index] : members.filter((i) => i !== change.index);
  next.sort((a, b) => a - b);
  return withinFaultBound(rules, next, height) ? next : null;
}

/** The members of each height of a node's chain (heights 1..chain length + 1). */
export class MemberHistory {
  private readonly rules: ChainRules;
  private readonly byHeight: number[][] = [];

  constructor(rules: ChainRules) {
    this.rules = rules;
    this.byHeight[1] = [...(rules.transitions.get(1) ?? rules.initial)];
  }

  at(height: number): readonly number[] {
    const m = this.byHeight[height];
    if (m === undefined) throw new Error(`members of height ${height} not known yet`);
    return m;
  }

  set(height: number): ValidatorSet {
    let s = this.sets[height];
    if (s === undefined) this.sets[height] = s = setOf(this.rules, this.at(height));
    return s;
  }
  private readonly sets: ValidatorSet[] = [];

  /** Block `height` was stored: fixes the members of height + 1. */
  stored(height: number, change: SetChange | null): void {
    const scheduled = this.rules.transitions.get(height + 1);
    const after = change === null ? [...this.at(height)] : (applyChange(this.rules, this.at(height), change, height) ?? [...this.at(height)]);
    this.byHeight[height + 1] = scheduled === undefined ? after : [...scheduled];
  }
}

export interface ParentView {
  readonly height: number;
  readonly digest: Uint8Array;
  readonly header: BlockHeader | null;
}

/**
 * Clock-free validity of `block` as the block after `parent` for a node whose member
 * history is `members`. Returns the reason it is invalid, or null.
 */
export function invalidReason(rules: ChainRules, members: MemberHistory, parent: ParentView, block: SimBlock): string | null {
  const h = block.header;
  if (h.chainId !== CHAIN_ID) return 'chain id';
  if (h.height !== parent.height + 1) return 'height';
  if (!equalBytes(h.parentHash, parent.height === 0 ? ZERO_HASH : parent.digest)) return 'parent hash';
  const set = members.set(h.height);
  if (!equalBytes(h.validatorSetHash, set.hash)) return 'validator set hash';
  if (!equalBytes(h.proposer, proposerOf(set, parent.header?.proposer ?? null, h.round).address)) return 'not the scheduled proposer of its round';
  if (parent.header !== null && h.timestamp <= parent.header.timestamp) return 'timestamp not increasing';
  if (block.change !== null && applyChange(rules, members.at(h.height), block.change, h.height) === null) return 'illegal set change';
  return null;
}

export function makeHeader(
  height: number,
  round: number,
  parent: ParentView,
  set: ValidatorSet,
  proposer: Uint8Array,
  timestamp: number,
  salt: number,
): BlockHeader {
  return {
    chainId: CHAIN_ID,
    height,
    round,
    parentHash: parent.height === 0 ? ZERO_HASH : parent.digest,
    timestamp,
    proposer,
    txRoot: ZERO_HASH,
    stateRoot: new Uint8Array(32).fill(salt & 0xff),
    receiptsRoot: ZERO_HASH,
    validatorSetHash: set.hash,
    txCount: 0,
    parentCertificate: null,
  };
}
