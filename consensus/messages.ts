import { decode, encode, readArray, readBytes, readUint, type Encodable } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import {
  coreFromWire,
  coreToWire,
  CORE_LENGTH,
  KIND_NAMES,
  type Commit,
  type Kind,
  type PreparedCertificate,
  type RoundChange,
  type SignedBase,
  type SignedCore,
  type Vote,
} from '../core/signed-core.ts';

/**
 * QBFT wire messages. Every message is a canonical array whose first fields are the
 * signed "core" (core/signed-core.ts: kinds, core codec, signing bytes) — [kind, height,
 * round, author, ...kind fields, signature] — followed by unsigned attachments (the
 * proposed block, justifications). Attachments are unsigned because they carry their own
 * proof (the block hashes to the signed digest; the justification is made of signed
 * messages), so a relay cannot alter them undetected.
 *
 *   PROPOSAL     [0, h, r, author, digest, sig, block, justification|nil]
 *   PREPARE      [1, h, r, author, digest, sig]
 *   COMMIT       [2, h, r, author, digest, seal, sig]
 *   ROUND-CHANGE [3, h, r, author, preparedRound|nil, preparedDigest|nil, sig, prepared|nil]
 *   justification = [[round-change core...], [vote core...]]
 *   prepared      = [block, [vote core...]]
 *   vote core     = PROPOSAL core or PREPARE core: [0|1, h, r, author, digest, sig]
 */

/** Upper bound on validators referenced by one justification (bounds decoding work). */
export const MAX_JUSTIFICATION_ENTRIES = 1024;

export interface Justification {
  /** A quorum of ROUND-CHANGEs for the proposal's round (cores only, no attachments). */
  readonly roundChanges: readonly RoundChange[];
  /** Quorum of votes proving the highest prepared round among them; empty if none prepared. */
  readonly votes: readonly Vote[];
}
export interface Proposal extends SignedBase {
  readonly kind: 0;
  readonly digest: Uint8Array;
  readonly block: Uint8Array;
  readonly justification: Justification | null;
}
export interface Prepare extends SignedBase {
  readonly kind: 1;
  readonly digest: Uint8Array;
}
export type ConsensusMessage = Proposal | Prepare | Commit | RoundChange;

/** The signed core of a message, without attachments. */
export function toCore(m: ConsensusMessage): SignedCore {
  switch (m.kind) {
    case 0:
      return { kind: 0, height: m.height, round: m.round, author: m.author, digest: m.digest, signature: m.signature };
    case 3:
      return { ...m, prepared: null };
    default:
      return m;
  }
}

export function messageToWire(m: ConsensusMessage): Encodable[] {
  const core = coreToWire(m);
  if (m.kind === 0) {
    const j = m.justification;
    return [...core, m.block, j === null ? null : [j.roundChanges.map(coreToWire), j.votes.map(coreToWire)]];
  }
  if (m.kind === 3) {
    const p = m.prepared;
    return [...core, p === null ? null : [p.block, p.votes.map(coreToWire)]];
  }
  return core;
}

export function encodeMessage(m: ConsensusMessage): Uint8Array {
  return encode(messageToWire(m));
}

// ---------------- decoding: every malformed input is a typed error naming its field ----------------

function invalid(path: string, why: string): JouleError {
  return new JouleError(ErrorCode.CONSENSUS_INVALID_MESSAGE, why, path);
}

function readList<T>(v: Encodable, path: string, read: (e: Encodable, p: string) => T): T[] {
  const a = readArray(v, path);
  if (a.length > MAX_JUSTIFICATION_ENTRIES) throw invalid(path, `more than ${MAX_JUSTIFICATION_ENTRIES} entries`);
  return a.map((e, i) => read(e, `${path}[${i}]`));
}

const readVote = (e: Encodable, p: string): Vote => coreFromWire(e, p, [0, 1]) as Vote;

export function messageFromWire(v: Encodable, path = 'message'): ConsensusMessage {
  const f = readArray(v, path);
  const kind = readUint(f[0] ?? null, `${path}.kind`);
  if (kind > 3) throw invalid(`${path}.kind`, `unknown message kind ${kind}`);
  const k = kind as Kind;
  const expected = k === 0 || k === 3 ? CORE_LENGTH[k] + (k === 0 ? 2 : 1) : CORE_LENGTH[k];
  if (f.length !== expected) throw invalid(path, `${KIND_NAMES[k]} must have ${expected} fields, got ${f.length}`);
  const core = coreFromWire(f.slice(0, CORE_LENGTH[k]), path, [k]);
  if (core.kind === 0) {
    const block = readBytes(f[6]!, `${path}.block`);
    let justification: Justification | null = null;
    if (f[7] !== null) {
      const jf = readArray(f[7]!, `${path}.justification`, 2);
      justification = {
        roundChanges: readList(jf[0]!, `${path}.justification.roundChanges`, (e, p) => coreFromWire(e, p, [3]) as RoundChange),
        votes: readList(jf[1]!, `${path}.justification.votes`, readVote),
      };
    }
    return { ...core, kind: 0, block, justification };
  }
  if (core.kind === 3) {
    let prepared: PreparedCertificate | null = null;
    if (f[7] !== null) {
      const pf = readArray(f[7]!, `${path}.prepared`, 2);
      prepared = { block: readBytes(pf[0]!, `${path}.prepared.block`), votes: readList(pf[1]!, `${path}.prepared.votes`, readVote) };
    }
    if ((prepared === null) !== (core.preparedRound === null)) {
      throw invalid(`${path}.prepared`, 'a prepared round needs its prepared certificate, and only then');
    }
    return { ...core, prepared };
  }
  return core as Prepare | Commit;
}

/** Decodes a wire message; throws JouleError (CODEC_* or CONSENSUS_INVALID_MESSAGE). */
export function decodeMessage(bytes: Uint8Array, maxBytes = 16 * 1024 * 1024): ConsensusMessage {
  if (bytes.length > maxBytes) throw invalid('message', `${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  return messageFromWire(decode(bytes, 'message'));
}
