import { compareBytes, utf8 } from './bytes.ts';
import { decode, encode, readArray, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { isZone, MAX_ZONE_LENGTH } from './device.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { sha256 } from './hash.ts';
import { ADDRESS_LENGTH } from './keys.ts';
import type { Settlement } from './market.ts';
import { marketId } from './state-keys.ts';

/**
 * Governed reversal of market settlements (vm/markets/reversal.ts): the governors genesis
 * names, the settlement a reversal names, and the record a reversal leaves in state, with
 * their canonical encodings.
 */

/** Upper bound on the governors genesis may name (each approval scans the list). */
export const MAX_GOVERNORS = 64;
/** A reason is 1..MAX_REASON_BYTES bytes of UTF-8. */
export const MAX_REASON_BYTES = 512;
const MAX_SEQ = 0xffff_ffff;

/** The governors (grid operators, regulator, exchange) and how many of them must approve a reversal. */
export interface GovernorSet {
  /** k: 1..governors.length. */
  readonly threshold: number;
  /** Distinct addresses, sorted ascending. */
  readonly governors: readonly Uint8Array[];
}

/** What is wrong with a governor list and threshold, as [which, problem]; empty when valid. */
export function governorSetProblems(governors: readonly Uint8Array[], threshold: number): ['governors' | 'governorThreshold', string][] {
  const out: ['governors' | 'governorThreshold', string][] = [];
  if (governors.length > MAX_GOVERNORS) out.push(['governors', `at most ${MAX_GOVERNORS} governors, got ${governors.length}`]);
  const sorted = [...governors].sort(compareBytes);
  if (sorted.some((g, i) => i > 0 && compareBytes(g, sorted[i - 1]!) === 0)) out.push(['governors', 'addresses must be distinct']);
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > governors.length)
    out.push(['governorThreshold', `must be an integer between 1 and the number of governors (${governors.length})`]);
  return out;
}

export function encodeGovernorSet(g: GovernorSet): Uint8Array {
  return encode([g.threshold, [...g.governors].sort(compareBytes)]);
}

export function decodeGovernorSet(bytes: Uint8Array): GovernorSet {
  const f = readArray(decode(bytes, 'governors'), 'governors', 2);
  return {
    threshold: readUint(f[0]!, 'governors.threshold'),
    governors: readArray(f[1]!, 'governors.list').map((v, i) => readBytes(v, `governors.list[${i}]`, ADDRESS_LENGTH)),
  };
}

/** A trade's settlement, as the market records name it: trade `seq` of market (zone, interval). */
export interface SettlementRef {
  readonly zone: string;
  readonly intervalStartMs: number;
  readonly seq: number;
}

/** M ++ u32be(seq): the id part of the settlement's (and the trade's) state key. */
export function settlementRefBytes(r: SettlementRef): Uint8Array {
  const seq = new Uint8Array(4);
  new DataView(seq.buffer).setUint32(0, r.seq);
  const m = marketId(r.zone, r.intervalStartMs);
  const out = new Uint8Array(m.length + 4);
  out.set(m);
  out.set(seq, m.length);
  return out;
}

const invalid = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, field);

/**
 * What a reversal tx names: the settlement, and the trade's buyer and seller. The parties
 * are in the trade record too; the tx names them because they are accounts it reads, and a
 * tx's reads are declared from its bytes alone (vm/access.ts). Validity checks they match.
 */
export interface ReversalTarget extends SettlementRef {
  readonly buyer: Uint8Array;
  readonly seller: Uint8Array;
}

/** [zone, intervalStartMs, seq, buyer, seller] */
export function targetWire(t: ReversalTarget): Encodable[] {
  return [t.zone, t.intervalStartMs, t.seq, t.buyer, t.seller];
}

/** Reads the five target fields from `f` (from index 0), naming `${path}.<field>`. */
export function readTarget(f: readonly Encodable[], path: string): ReversalTarget {
  const t: ReversalTarget = {
    zone: readString(f[0]!, `${path}.zone`, MAX_ZONE_LENGTH),
    intervalStartMs: readUint(f[1]!, `${path}.intervalStartMs`),
    seq: readUint(f[2]!, `${path}.seq`),
    buyer: readBytes(f[3]!, `${path}.buyer`, ADDRESS_LENGTH),
    seller: readBytes(f[4]!, `${path}.seller`, ADDRESS_LENGTH),
  };
  checkTarget(t, path);
  return t;
}

export function checkTarget(t: ReversalTarget, path: string): void {
  checkSettlementRef(t, path);
  for (const k of ['buyer', 'seller'] as const)
    if (!(t[k] instanceof Uint8Array) || t[k].length !== ADDRESS_LENGTH) throw invalid(`${path}.${k}`, `must be a ${ADDRESS_LENGTH}-byte address`);
}

/** Throws TX_INVALID_FIELD naming `${path}.zone|intervalStartMs|seq`. */
export function checkSettlementRef(r: SettlementRef, path: string): void {
  if (!isZone(r.zone)) throw invalid(`${path}.zone`, 'must be 1-32 characters of letters, digits, ".", "_", ":" or "-"');
  if (!Number.isSafeInteger(r.intervalStartMs) || r.intervalStartMs < 0) throw invalid(`${path}.intervalStartMs`, 'must be a non-negative integer (ms)');
  if (!Number.isSafeInteger(r.seq) || r.seq < 0 || r.seq > MAX_SEQ) throw invalid(`${path}.seq`, `must be an integer 0..${MAX_SEQ}`);
}

/**
 * A reason: 1..MAX_REASON_BYTES bytes of UTF-8 (the codec refuses strings that are not
 * well-formed: lone surrogates on encoding, invalid UTF-8 on decoding).
 */
export function checkReason(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw invalid(field, 'must be a non-empty text');
  if (utf8(v).length > MAX_REASON_BYTES) throw invalid(field, `must be at most ${MAX_REASON_BYTES} bytes of UTF-8`);
  return v;
}

export type ReversalStatus = 'open' | 'executed';

/** A proposed or executed reversal of one settlement. */
export interface Reversal {
  /** 1, 2, ...: in the order proposals were made. */
  readonly id: number;
  readonly zone: string;
  readonly intervalStartMs: number;
  readonly seq: number;
  /** The trade's parties (a reversal tx names them: they are the accounts it reads). */
  readonly buyer: Uint8Array;
  readonly seller: Uint8Array;
  readonly reason: string;
  /** Governors in the order they approved; the proposer first. */
  readonly approvers: readonly Uint8Array[];
  readonly proposedHeight: number;
  /** The block that executed it (the k-th approval); undefined while open. */
  readonly executedHeight: number | undefined;
}

export function reversalStatus(r: Reversal): ReversalStatus {
  return r.executedHeight === undefined ? 'open' : 'executed';
}

/** Wire form: [id, zone, intervalStartMs, seq, buyer, seller, reason, [approver...], proposedHeight, executedHeight or 0]. */
export function encodeReversal(r: Reversal): Uint8Array {
  return encode([r.id, r.zone, r.intervalStartMs, r.seq, r.buyer, r.seller, r.reason, [...r.approvers], r.proposedHeight, r.executedHeight ?? 0]);
}

export function decodeReversal(bytes: Uint8Array): Reversal {
  const f = readArray(decode(bytes, 'reversal'), 'reversal', 10);
  const executed = readUint(f[9]!, 'reversal.executedHeight');
  return {
    id: readUint(f[0]!, 'reversal.id'),
    zone: readString(f[1]!, 'reversal.zone', MAX_ZONE_LENGTH),
    intervalStartMs: readUint(f[2]!, 'reversal.intervalStartMs'),
    seq: readUint(f[3]!, 'reversal.seq'),
    buyer: readBytes(f[4]!, 'reversal.buyer', ADDRESS_LENGTH),
    seller: readBytes(f[5]!, 'reversal.seller', ADDRESS_LENGTH),
    reason: readString(f[6]!, 'reversal.reason', MAX_REASON_BYTES),
    approvers: readArray(f[7]!, 'reversal.approvers').map((v, i) => readBytes(v, `reversal.approvers[${i}]`, ADDRESS_LENGTH)),
    proposedHeight: readUint(f[8]!, 'reversal.proposedHeight'),
    executedHeight: executed === 0 ? undefined : executed,
  };
}

/** A reversal as the RPC layer answers it: the record, the settlement it concerns, k, and the keys that prove them. */
export interface ReversalView {
  readonly reversal: Reversal;
  /** The governors' k (undefined on a chain without governors, which has no reversals either). */
  readonly threshold: number | undefined;
  readonly settlement: Settlement | undefined;
  /** The record's key, 0x23 0x02 ++ M ++ u32be(seq). */
  readonly key: Uint8Array;
  /** The id index entry's key, 0x23 0x03 ++ u64be(id). */
  readonly idKey: Uint8Array;
  readonly settlementKey: Uint8Array;
}

/** The id of the energy UTXO a reversal gives the seller back: sha256(encode(["JOULE/energy-utxo/reversal/v1", M, seq])). */
export const REVERSAL_UTXO_TAG = 'JOULE/energy-utxo/reversal/v1';

export function reversalUtxoId(r: SettlementRef): Uint8Array {
  return sha256(encode([REVERSAL_UTXO_TAG, marketId(r.zone, r.intervalStartMs), r.seq]));
}
