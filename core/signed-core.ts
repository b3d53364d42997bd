import { encode, readArray, readBytes, readUint, type Encodable } from './codec.ts';
import { Domain, signingBytes, type DomainTag } from './domain.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { HASH_LENGTH } from './hash.ts';
import { ADDRESS_LENGTH, BLS_SIGNATURE_LENGTH, ED25519_SIGNATURE_LENGTH } from './keys.ts';

/**
 * The signed cores of QBFT messages: what a validator signs, what justifications and
 * certificates are built from, and what equivocation evidence (core/evidence.ts) is made
 * of. consensus/messages.ts adds the unsigned attachments (the proposed block,
 * justifications) on top; vm/ and rpc/ read evidence and name message kinds from here
 * without importing consensus/.
 *
 *   PROPOSAL core     [0, h, r, author, digest, sig]
 *   PREPARE core      [1, h, r, author, digest, sig]
 *   COMMIT core       [2, h, r, author, digest, seal, sig]
 *   ROUND-CHANGE core [3, h, r, author, preparedRound|nil, preparedDigest|nil, sig]
 *
 * Signed bytes: signingBytes(domain of kind, chainId, [h, r, author, ...kind fields]).
 */
export const Kind = { PROPOSAL: 0, PREPARE: 1, COMMIT: 2, ROUND_CHANGE: 3 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];
/** Display names of the kinds, indexed by kind (logs, RPC, evidence events). */
export const KIND_NAMES: readonly string[] = ['PROPOSAL', 'PREPARE', 'COMMIT', 'ROUND-CHANGE'];

const DOMAINS: readonly DomainTag[] = [Domain.proposal, Domain.prepare, Domain.commit, Domain.roundChange];

export interface SignedBase {
  readonly height: number;
  readonly round: number;
  /** Validator address (20 bytes); its Ed25519 identity key verifies `signature`. */
  readonly author: Uint8Array;
  readonly signature: Uint8Array;
}

/** A PREPARE, or the signed core of a PROPOSAL (the proposal counts as its author's prepare). */
export interface Vote extends SignedBase {
  readonly kind: 0 | 1;
  readonly digest: Uint8Array;
}
export interface Commit extends SignedBase {
  readonly kind: 2;
  readonly digest: Uint8Array;
  /** BLS signature over commitSealBytes(chainId, height, digest): round-independent. */
  readonly seal: Uint8Array;
}
/** A block and a quorum of votes for it in one round (a ROUND-CHANGE's unsigned attachment). */
export interface PreparedCertificate {
  readonly block: Uint8Array;
  readonly votes: readonly Vote[];
}
export interface RoundChange extends SignedBase {
  readonly kind: 3;
  readonly preparedRound: number | null;
  readonly preparedDigest: Uint8Array | null;
  /** Unsigned attachment; always null in a signed core. */
  readonly prepared: PreparedCertificate | null;
}
/** Any signed core (what evidence and justifications are made of). */
export type SignedCore = Vote | Commit | RoundChange;

/** Distributes Omit over a union, so `Unsigned<ConsensusMessage>` stays discriminated. */
export type Unsigned<T> = T extends unknown ? Omit<T, 'signature'> : never;

function kindFields(m: Unsigned<SignedCore>): Encodable[] {
  switch (m.kind) {
    case 0:
    case 1:
      return [m.digest];
    case 2:
      return [m.digest, m.seal];
    case 3:
      return [m.preparedRound, m.preparedDigest];
  }
}

/** The exact bytes the author signs: domain tag and chain id first, then the fields. */
export function messageSigningBytes(chainId: string, m: Unsigned<SignedCore>): Uint8Array {
  return signingBytes(DOMAINS[m.kind]!, chainId, [m.height, m.round, m.author, ...kindFields(m)]);
}

export function coreToWire(m: SignedCore): Encodable[] {
  return [m.kind, m.height, m.round, m.author, ...kindFields(m), m.signature];
}

export function encodeCore(m: SignedCore): Uint8Array {
  return encode(coreToWire(m));
}

function invalid(path: string, why: string): JouleError {
  return new JouleError(ErrorCode.CONSENSUS_INVALID_MESSAGE, why, path);
}

/** Fields of each kind's core, indexed by kind. */
export const CORE_LENGTH = [6, 6, 7, 7] as const;

/**
 * Reads a signed core; `allowed` restricts which kinds may appear at this place. Every
 * malformed input is a typed error (CODEC_* or CONSENSUS_INVALID_MESSAGE) naming its field.
 */
export function coreFromWire(v: Encodable, path: string, allowed: readonly Kind[]): SignedCore {
  const f = readArray(v, path);
  const kind = readUint(f[0] ?? null, `${path}.kind`);
  if (!allowed.includes(kind as Kind)) throw invalid(`${path}.kind`, `kind ${kind} not allowed here`);
  const k = kind as Kind;
  if (f.length !== CORE_LENGTH[k]) throw invalid(path, `${KIND_NAMES[k]} core must have ${CORE_LENGTH[k]} fields, got ${f.length}`);
  const height = readUint(f[1]!, `${path}.height`);
  const round = readUint(f[2]!, `${path}.round`);
  const author = readBytes(f[3]!, `${path}.author`, ADDRESS_LENGTH);
  const signature = readBytes(f[f.length - 1]!, `${path}.signature`, ED25519_SIGNATURE_LENGTH);
  if (k === 0 || k === 1) return { kind: k, height, round, author, digest: readBytes(f[4]!, `${path}.digest`, HASH_LENGTH), signature };
  if (k === 2) {
    const digest = readBytes(f[4]!, `${path}.digest`, HASH_LENGTH);
    return { kind: 2, height, round, author, digest, seal: readBytes(f[5]!, `${path}.seal`, BLS_SIGNATURE_LENGTH), signature };
  }
  const preparedRound = f[4] === null ? null : readUint(f[4]!, `${path}.preparedRound`);
  const preparedDigest = f[5] === null ? null : readBytes(f[5]!, `${path}.preparedDigest`, HASH_LENGTH);
  if ((preparedRound === null) !== (preparedDigest === null)) {
    throw invalid(path, 'preparedRound and preparedDigest must be both present or both nil');
  }
  if (preparedRound !== null && preparedRound >= round) throw invalid(`${path}.preparedRound`, 'must be lower than the round');
  return { kind: 3, height, round, author, preparedRound, preparedDigest, prepared: null, signature };
}
