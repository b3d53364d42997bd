import { decode, encode, readAmount, readArray, readBool, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { Domain, signingBytes } from './domain.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { HASH_LENGTH, sha256 } from './hash.ts';
import { ADDRESS_LENGTH, BLS_SIGNATURE_LENGTH } from './keys.ts';

/**
 * A commit certificate: proof that a quorum of the height's validators committed the
 * block. One aggregate BLS signature over the commit-seal bytes plus a bitmap of signers
 * (bit i = validator i of the height's sorted validator set).
 * Wire form: [height, round, blockHash, aggregateSignature, signers]
 */
export interface CommitCertificate {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly aggregateSignature: Uint8Array;
  readonly signers: Uint8Array;
}

/**
 * Block header. Its hash (SHA-256 of its encoding) identifies the block; it contains no
 * seals of its own block, so a block re-proposed in a later round keeps its hash.
 * `round` is the QBFT round in which the block was BUILT, and `proposer` must be the
 * scheduled proposer of (height, round): that binds the proposer rotation of the next
 * height to the schedule, not to the proposer's say-so. `parentCertificate` carries the
 * previous block's commit certificate.
 * Wire form: [chainId, height, round, parentHash, timestamp, proposer, txRoot, stateRoot,
 *             receiptsRoot, validatorSetHash, txCount, parentCertificate|nil]
 */
export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  /** Round in which the block was built (a re-proposal in a later round keeps it). */
  readonly round: number;
  readonly parentHash: Uint8Array;
  /** Milliseconds since the Unix epoch, set by the proposer. */
  readonly timestamp: number;
  /** Address of the proposing validator. */
  readonly proposer: Uint8Array;
  readonly txRoot: Uint8Array;
  /** State root after executing this block. */
  readonly stateRoot: Uint8Array;
  readonly receiptsRoot: Uint8Array;
  /** Hash of the validator set that certifies this block. */
  readonly validatorSetHash: Uint8Array;
  readonly txCount: number;
  readonly parentCertificate: CommitCertificate | null;
}

export interface Block {
  readonly header: BlockHeader;
  /** Encoded signed transactions, in execution order. */
  readonly txs: readonly Uint8Array[];
}

export interface BlockEvent {
  readonly type: string;
  readonly attributes: readonly (readonly [string, string])[];
}

/** Wire form: [txHash, success, code, feePaid, events[[type, [[k, v]...]]...]] */
export interface Receipt {
  readonly txHash: Uint8Array;
  readonly success: boolean;
  /** '' on success, otherwise the typed error code of the failure. */
  readonly code: string;
  readonly feePaid: bigint;
  readonly events: readonly BlockEvent[];
}

// ---------------- encoding ----------------

export function certificateToWire(c: CommitCertificate): Encodable[] {
  return [c.height, c.round, c.blockHash, c.aggregateSignature, c.signers];
}

export function certificateFromWire(v: Encodable, path = 'certificate'): CommitCertificate {
  const f = readArray(v, path, 5);
  return {
    height: readUint(f[0]!, `${path}.height`),
    round: readUint(f[1]!, `${path}.round`),
    blockHash: readBytes(f[2]!, `${path}.blockHash`, HASH_LENGTH),
    aggregateSignature: readBytes(f[3]!, `${path}.aggregateSignature`, BLS_SIGNATURE_LENGTH),
    signers: readBytes(f[4]!, `${path}.signers`),
  };
}

export function encodeCertificate(c: CommitCertificate): Uint8Array {
  return encode(certificateToWire(c));
}

export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  return certificateFromWire(decode(bytes, 'certificate'));
}

export function headerToWire(h: BlockHeader): Encodable[] {
  return [
    h.chainId,
    h.height,
    h.round,
    h.parentHash,
    h.timestamp,
    h.proposer,
    h.txRoot,
    h.stateRoot,
    h.receiptsRoot,
    h.validatorSetHash,
    h.txCount,
    h.parentCertificate === null ? null : certificateToWire(h.parentCertificate),
  ];
}

export function headerFromWire(v: Encodable, path = 'header'): BlockHeader {
  const f = readArray(v, path, 12);
  return {
    chainId: readString(f[0]!, `${path}.chainId`, 64),
    height: readUint(f[1]!, `${path}.height`),
    round: readUint(f[2]!, `${path}.round`),
    parentHash: readBytes(f[3]!, `${path}.parentHash`, HASH_LENGTH),
    timestamp: readUint(f[4]!, `${path}.timestamp`),
    proposer: readBytes(f[5]!, `${path}.proposer`, ADDRESS_LENGTH),
    txRoot: readBytes(f[6]!, `${path}.txRoot`, HASH_LENGTH),
    stateRoot: readBytes(f[7]!, `${path}.stateRoot`, HASH_LENGTH),
    receiptsRoot: readBytes(f[8]!, `${path}.receiptsRoot`, HASH_LENGTH),
    validatorSetHash: readBytes(f[9]!, `${path}.validatorSetHash`, HASH_LENGTH),
    txCount: readUint(f[10]!, `${path}.txCount`),
    parentCertificate: f[11] === null ? null : certificateFromWire(f[11]!, `${path}.parentCertificate`),
  };
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  return encode(headerToWire(h));
}

export function blockHash(h: BlockHeader): Uint8Array {
  return sha256(encodeHeader(h));
}

export function encodeBlock(b: Block): Uint8Array {
  return encode([headerToWire(b.header), [...b.txs]]);
}

export function decodeBlock(bytes: Uint8Array, maxBytes?: number): Block {
  if (maxBytes !== undefined && bytes.length > maxBytes) {
    throw new JouleError(ErrorCode.BLOCK_INVALID, `block is ${bytes.length} bytes, limit ${maxBytes}`, 'block');
  }
  const f = readArray(decode(bytes, 'block'), 'block', 2);
  const header = headerFromWire(f[0]!, 'block.header');
  const txs = readArray(f[1]!, 'block.txs').map((t, i) => readBytes(t, `block.txs[${i}]`));
  return { header, txs };
}

export function receiptToWire(r: Receipt): Encodable[] {
  return [r.txHash, r.success, r.code, r.feePaid, r.events.map((e) => [e.type, e.attributes.map(([k, v]) => [k, v])])];
}

export function receiptFromWire(v: Encodable, path = 'receipt'): Receipt {
  const f = readArray(v, path, 5);
  return {
    txHash: readBytes(f[0]!, `${path}.txHash`, HASH_LENGTH),
    success: readBool(f[1]!, `${path}.success`),
    code: readString(f[2]!, `${path}.code`),
    feePaid: readAmount(f[3]!, `${path}.feePaid`),
    events: readArray(f[4]!, `${path}.events`).map((e, i) => {
      const ef = readArray(e, `${path}.events[${i}]`, 2);
      return {
        type: readString(ef[0]!, `${path}.events[${i}].type`),
        attributes: readArray(ef[1]!, `${path}.events[${i}].attributes`).map((a, j) => {
          const af = readArray(a, `${path}.events[${i}].attributes[${j}]`, 2);
          return [
            readString(af[0]!, `${path}.events[${i}].attributes[${j}].key`),
            readString(af[1]!, `${path}.events[${i}].attributes[${j}].value`, 4096),
          ] as const;
        }),
      };
    }),
  };
}

export function encodeReceipt(r: Receipt): Uint8Array {
  return encode(receiptToWire(r));
}

export function decodeReceipt(bytes: Uint8Array): Receipt {
  return receiptFromWire(decode(bytes, 'receipt'));
}

/**
 * What validators seal in COMMIT: bound to chain, height, ROUND and block hash. QBFT counts
 * a commit quorum within one round (that is what the prepared certificates' quorum
 * intersection protects); a seal without its round could be added to seals of other rounds
 * and certify a block no single round decided. As in Besu, the round is stamped into what
 * is sealed, and a certificate's round is part of what it proves.
 */
export function commitSealBytes(chainId: string, height: number, round: number, hash: Uint8Array): Uint8Array {
  return signingBytes(Domain.commitSeal, chainId, [height, round, hash]);
}
