import { commitSealBytes, encodeCertificate, encodeHeader, blockHash, type BlockHeader, type CommitCertificate } from '../../core/block.ts';
import { utf8 } from '../../core/bytes.ts';
import { decode, encode } from '../../core/codec.ts';
import { Domain } from '../../core/domain.ts';
import { encodeEvidence, makeEvidence } from '../../core/evidence.ts';
import { sha256, ZERO_HASH } from '../../core/hash.ts';
import { blsAggregateSignatures, blsSign, ed25519Sign } from '../../core/keys.ts';
import { merkleRoot } from '../../core/merkle.ts';
import { popMessage } from '../../core/pop.ts';
import { encodeCore, messageSigningBytes, type SignedCore, type Unsigned } from '../../core/signed-core.ts';
import { txSigningBytes } from '../../core/tx.ts';
import { bitmapFromIndexes } from '../../core/validators.ts';
import { decodeTx } from '../../core/tx.ts';
import { transitionSigningBytes } from '../../node/chain/transitions.ts';
import { evidenceId } from '../../state/evidence-records.ts';
import { proposalId } from '../../state/validator-votes.ts';
import { hex, toNotation, unhex, type Notation, type Plain } from './notation.ts';
import { coreFields, equivocatingPrepares } from './valid-txs.ts';
import { KEYS, VALIDATOR_SET, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/** One signed payload: the value signed (domain tag, chain id, fields), its encoding, the signature. */
export interface SigningVector {
  name: string;
  domain: string;
  scheme: 'ed25519' | 'bls12-381';
  /** Name of the key (in `keys`) that signs: its Ed25519 seed or its BLS secret key. */
  signer: string;
  value: Notation;
  payload: string;
  signature: string;
  /** The signed message as sent, where it has a wire form of its own (consensus cores). */
  encoded?: string;
  fields?: Record<string, unknown>;
}

export interface HeaderVector {
  name: string;
  fields: Record<string, unknown>;
  encoded: string;
  /** The block hash: SHA-256 of `encoded`. */
  hash: string;
}

export interface CertificateVector {
  name: string;
  fields: Record<string, unknown>;
  /** Validators whose seals are aggregated; bit i of `signers` = validator i of the set sorted by address. */
  signerNames: string[];
  /** What each signer sealed (commit-seal payload of the certified block and round). */
  sealPayload: string;
  encoded: string;
}

/** A hash rule applied: SHA-256 of `encoded` (the canonical encoding of `value`). */
export interface HashVector {
  name: string;
  rule: string;
  value: Notation;
  encoded: string;
  hash: string;
}

export interface MerkleVector {
  name: string;
  rule: string;
  leaves: string[];
  root: string;
}

function ed25519Vector(name: string, domain: string, k: VectorKey, payload: Uint8Array, extra: Partial<SigningVector> = {}): SigningVector {
  return {
    name,
    domain,
    scheme: 'ed25519',
    signer: k.name,
    value: toNotation(decode(payload) as Plain),
    payload: hex(payload),
    signature: hex(ed25519Sign(k.seed, payload)),
    ...extra,
  };
}

function blsVector(name: string, domain: string, k: VectorKey, payload: Uint8Array, extra: Partial<SigningVector> = {}): SigningVector {
  return {
    name,
    domain,
    scheme: 'bls12-381',
    signer: k.name,
    value: toNotation(decode(payload) as Plain),
    payload: hex(payload),
    signature: hex(blsSign(k.bls!.secretKey, payload)),
    ...extra,
  };
}

const label = (s: string) => sha256(utf8(`joule-protocol-vectors/${s}`));

export function certificateFields(c: CommitCertificate): Record<string, unknown> {
  return { height: c.height, round: c.round, blockHash: hex(c.blockHash), aggregateSignature: hex(c.aggregateSignature), signers: hex(c.signers) };
}

export function headerFields(h: BlockHeader): Record<string, unknown> {
  return {
    chainId: h.chainId,
    height: h.height,
    round: h.round,
    parentHash: hex(h.parentHash),
    timestamp: h.timestamp,
    proposer: hex(h.proposer),
    txRoot: hex(h.txRoot),
    stateRoot: hex(h.stateRoot),
    receiptsRoot: hex(h.receiptsRoot),
    validatorSetHash: hex(h.validatorSetHash),
    txCount: h.txCount,
    parentCertificate: h.parentCertificate === null ? null : certificateFields(h.parentCertificate),
  };
}

/** Quorum (3 of 4) seals of block `hash` at (height, round), aggregated. */
function certify(height: number, round: number, hash: Uint8Array, signers: readonly VectorKey[]): CommitCertificate {
  const payload = commitSealBytes(VECTOR_CHAIN_ID, height, round, hash);
  return {
    height,
    round,
    blockHash: hash,
    aggregateSignature: blsAggregateSignatures(signers.map((k) => blsSign(k.bls!.secretKey, payload))),
    signers: bitmapFromIndexes(
      VALIDATOR_SET.size,
      signers.map((k) => VALIDATOR_SET.indexOf(k.address)),
    ),
  };
}

export interface BlockVectors {
  headers: HeaderVector[];
  certificates: CertificateVector[];
  /** Block 2's hash, which the consensus messages of `signing` vote for. */
  digest: Uint8Array;
}

/** Block 1 (no parent certificate, as at height 1) and block 2 carrying block 1's certificate. */
export function blockVectors(transferTxs: readonly string[]): BlockVectors {
  const { north, south, east } = KEYS;
  const txHashes = transferTxs.map((t) => decodeTx(unhex(t)).hash);
  const header1: BlockHeader = {
    chainId: VECTOR_CHAIN_ID,
    height: 1,
    round: 0,
    parentHash: label('genesis'),
    timestamp: 1_767_225_600_000,
    proposer: south.address,
    txRoot: ZERO_HASH,
    stateRoot: label('state/1'),
    receiptsRoot: ZERO_HASH,
    validatorSetHash: VALIDATOR_SET.hash,
    txCount: 0,
    parentCertificate: null,
  };
  const hash1 = blockHash(header1);
  const signers = [north, south, east];
  const cert1 = certify(1, 0, hash1, signers);
  const header2: BlockHeader = {
    chainId: VECTOR_CHAIN_ID,
    height: 2,
    round: 1,
    parentHash: hash1,
    timestamp: 1_767_225_601_250,
    proposer: north.address,
    txRoot: merkleRoot(txHashes),
    stateRoot: label('state/2'),
    receiptsRoot: label('receipts/2'),
    validatorSetHash: VALIDATOR_SET.hash,
    txCount: txHashes.length,
    parentCertificate: cert1,
  };
  const headerVector = (name: string, h: BlockHeader): HeaderVector => ({
    name,
    fields: headerFields(h),
    encoded: hex(encodeHeader(h)),
    hash: hex(blockHash(h)),
  });
  return {
    headers: [headerVector('block-1', header1), headerVector('block-2', header2)],
    certificates: [
      {
        name: 'certificate-of-block-1',
        fields: certificateFields(cert1),
        signerNames: signers.map((k) => k.name),
        sealPayload: hex(commitSealBytes(VECTOR_CHAIN_ID, 1, 0, hash1)),
        encoded: hex(encodeCertificate(cert1)),
      },
    ],
    digest: blockHash(header2),
  };
}

/** Every domain tag in use: one signed payload each (telemetry and grid-command have no layout yet). */
export function signingVectors(digest: Uint8Array, firstTx: string): SigningVector[] {
  const { north, candidate } = KEYS;
  const chainId = VECTOR_CHAIN_ID;
  const tx = decodeTx(unhex(firstTx));
  const core = (name: string, domain: string, m: Unsigned<SignedCore>) => {
    const payload = messageSigningBytes(chainId, m);
    const signed = { ...m, signature: ed25519Sign(north.seed, payload) } as SignedCore;
    return ed25519Vector(name, domain, north, payload, { encoded: hex(encodeCore(signed)), fields: coreFields(signed) });
  };
  const base = { height: 2, round: 1, author: north.address };
  const sealPayload = commitSealBytes(chainId, 2, 1, digest);
  const seal = blsSign(north.bls!.secretKey, sealPayload);
  return [
    ed25519Vector('tx', Domain.tx, KEYS.alice, txSigningBytes(tx), {
      fields: { type: tx.type, sender: hex(tx.sender), nonce: tx.nonce, fee: tx.fee.toString(), body: hex(tx.body) },
    }),
    blsVector('proof-of-possession', Domain.proofOfPossession, candidate, popMessage(chainId, candidate.bls!.publicKey, candidate.publicKey), {
      fields: { blsKey: hex(candidate.bls!.publicKey), identityKey: hex(candidate.publicKey) },
    }),
    core('proposal', Domain.proposal, { kind: 0, ...base, digest }),
    core('prepare', Domain.prepare, { kind: 1, ...base, digest }),
    core('commit', Domain.commit, { kind: 2, ...base, digest, seal }),
    core('round-change-prepared', Domain.roundChange, { kind: 3, ...base, preparedRound: 0, preparedDigest: digest, prepared: null }),
    core('round-change-not-prepared', Domain.roundChange, { kind: 3, ...base, preparedRound: null, preparedDigest: null, prepared: null }),
    blsVector('commit-seal', Domain.commitSeal, north, sealPayload, { fields: { height: 2, round: 1, blockHash: hex(digest) } }),
    ed25519Vector('validator-transition', Domain.transition, north, transitionSigningBytes(chainId, 100, VALIDATOR_SET), {
      fields: { height: 100, validatorSetHash: hex(VALIDATOR_SET.hash) },
    }),
  ];
}

export function hashVectors(): HashVector[] {
  const { candidate } = KEYS;
  const vector = (name: string, rule: string, value: Plain, hash: Uint8Array): HashVector => ({
    name,
    rule,
    value: toNotation(value),
    encoded: hex(encode(value as never)),
    hash: hex(hash),
  });
  const setValue = VALIDATOR_SET.validators.map((v) => [v.name, v.address, v.identityKey, v.blsKey]);
  const proposal = { action: 0 as const, name: candidate.name, identityKey: candidate.publicKey, blsKey: candidate.bls!.publicKey };
  const [a, b] = equivocatingPrepares();
  const evidence = encodeEvidence(makeEvidence(a, b));
  return [
    vector('validator-set-hash', 'sha256(encode([[name, address, identityKey, blsKey], ...] sorted by address))', setValue, VALIDATOR_SET.hash),
    vector(
      'validator-vote-proposal-id',
      'sha256(encode([action, name, identityKey, blsKey]))',
      [0, proposal.name, proposal.identityKey, proposal.blsKey],
      proposalId(proposal),
    ),
    vector('evidence-id', 'sha256(the evidence tx body)', decode(evidence) as Plain, evidenceId(evidence)),
  ];
}

export function merkleVectors(transferTxs: readonly string[]): MerkleVector[] {
  const leaves = transferTxs.map((t) => decodeTx(unhex(t)).hash);
  const rule = 'leaf = sha256(0x00 || item); node = sha256(0x01 || left || right); an odd last node moves up unchanged; no items: 32 zero bytes';
  return [
    { name: 'tx-root-of-three', rule, leaves: leaves.slice(0, 3).map(hex), root: hex(merkleRoot(leaves.slice(0, 3))) },
    { name: 'tx-root-of-one', rule, leaves: leaves.slice(0, 1).map(hex), root: hex(merkleRoot(leaves.slice(0, 1))) },
    { name: 'tx-root-of-none', rule, leaves: [], root: hex(merkleRoot([])) },
  ];
}
