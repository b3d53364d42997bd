import { utf8 } from '../../core/bytes.ts';
import { formatAddress, ed25519Sign } from '../../core/keys.ts';
import { encodeEvidence, makeEvidence } from '../../core/evidence.ts';
import { sha256 } from '../../core/hash.ts';
import { messageSigningBytes, type SignedCore, type Unsigned } from '../../core/signed-core.ts';
import { buildEvidenceTx } from '../../core/tx/evidence.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { buildValidatorVote } from '../../core/tx/validator-vote.ts';
import { txSigningBytes, type Tx } from '../../core/tx.ts';
import { txHandler } from '../../vm/registry.ts';
import { validDeviceTxVectors } from './device-vectors.ts';
import { validTelemetryTxVectors } from './telemetry-vectors.ts';
import { validCommandTxVectors } from './command-vectors.ts';
import { validEnergyTxVectors } from './energy-vectors.ts';
import { validMarketTxVectors } from './market-vectors.ts';
import { validAgreementTxVectors } from './agreement-vectors.ts';
import { validFlexTxVectors } from './flex-vectors.ts';
import { validReversalTxVectors } from './reversal-vectors.ts';
import { hex } from './notation.ts';
import { KEYS, popOf, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/** A valid transaction of the vector file: its fields, every intermediate encoding, its hash. */
export interface ValidTxVector {
  name: string;
  description: string;
  typeName: string;
  /** Name of the key (in `keys`) that signs. */
  signer: string;
  fields: { chainId: string; type: number; sender: string; nonce: number; fee: string; body: Record<string, unknown> };
  encodedBody: string;
  /** What the sender signs: encode(["JOULE/tx/v1", chainId, type, sender, nonce, fee, body]). */
  signingPayload: string;
  signature: string;
  encodedTx: string;
  txHash: string;
  /** The sender's address, bech32. */
  from: string;
}

/** JSON fields of a signed consensus core (evidence bodies are made of two). */
export function coreFields(c: SignedCore): Record<string, unknown> {
  const base = { kind: c.kind, height: c.height, round: c.round, author: hex(c.author) };
  if (c.kind === 3) {
    return { ...base, preparedRound: c.preparedRound, preparedDigest: c.preparedDigest === null ? null : hex(c.preparedDigest), signature: hex(c.signature) };
  }
  if (c.kind === 2) return { ...base, digest: hex(c.digest), seal: hex(c.seal), signature: hex(c.signature) };
  return { ...base, digest: hex(c.digest), signature: hex(c.signature) };
}

export function signCore(k: VectorKey, m: Unsigned<SignedCore>, chainId = VECTOR_CHAIN_ID): SignedCore {
  return { ...m, signature: ed25519Sign(k.seed, messageSigningBytes(chainId, m)) } as SignedCore;
}

/** dso-south signs two PREPAREs for different blocks at height 7, round 0: equivocation. */
export function equivocatingPrepares(): [SignedCore, SignedCore] {
  const prepare = (label: string) => signCore(KEYS.south, { kind: 1, height: 7, round: 0, author: KEYS.south.address, digest: sha256(utf8(label)) });
  return [prepare('block A at height 7'), prepare('block B at height 7')];
}

function vector(name: string, description: string, signer: VectorKey, tx: Tx, body: Record<string, unknown>): ValidTxVector {
  return {
    name,
    description,
    typeName: txHandler(tx.type)!.name,
    signer: signer.name,
    fields: { chainId: tx.chainId, type: tx.type, sender: hex(tx.sender), nonce: tx.nonce, fee: tx.fee.toString(), body },
    encodedBody: hex(tx.body),
    signingPayload: hex(txSigningBytes(tx)),
    signature: hex(tx.signature),
    encodedTx: hex(tx.bytes),
    txHash: hex(tx.hash),
    from: formatAddress(tx.from),
  };
}

function transfer(name: string, description: string, from: VectorKey, to: VectorKey, amount: bigint, nonce: number, fee: bigint): ValidTxVector {
  const tx = buildTransfer({ chainId: VECTOR_CHAIN_ID, seed: from.seed, nonce, fee, to: to.address, amount });
  return vector(name, description, from, tx, { to: hex(to.address), amount: amount.toString() });
}

export function validTxVectors(): ValidTxVector[] {
  const { alice, bob, north, west, candidate } = KEYS;
  const add = { name: candidate.name, identityKey: candidate.publicKey, blsKey: candidate.bls!.publicKey, blsProofOfPossession: popOf(candidate) };
  const remove = { name: west.name, identityKey: west.publicKey, blsKey: west.bls!.publicKey };
  const [a, b] = equivocatingPrepares();
  const evidence = makeEvidence(a, b);
  const evidenceBody = encodeEvidence(evidence);
  const voteBody = (action: 0 | 1, v: { name: string; identityKey: Uint8Array; blsKey: Uint8Array; blsProofOfPossession?: Uint8Array }) => ({
    action,
    name: v.name,
    identityKey: hex(v.identityKey),
    blsKey: hex(v.blsKey),
    blsProofOfPossession: hex(v.blsProofOfPossession ?? new Uint8Array(0)),
  });
  return [
    transfer('transfer', 'alice sends 1,000,000 micro-units to bob (the worked example of docs/protocol.md)', alice, bob, 1_000_000n, 0, 10n),
    transfer('transfer-int64-amount', 'an amount from 2^32 to 2^63-1 is written as int64 (0xd3), not uint64', alice, bob, 5_000_000_000n, 1, 250n),
    transfer('transfer-uint64-amount', 'an amount of 2^63 or more is written as uint64 (0xcf)', alice, bob, 2n ** 63n, 300, 70_000n),
    transfer(
      'transfer-to-self-large-nonce',
      'a transfer to oneself (allowed: it costs the fee); nonce 2^32 is an int64 too',
      alice,
      alice,
      127n,
      2 ** 32,
      65_535n,
    ),
    vector(
      'validator-vote-add',
      'dso-north votes to add aggregator-one, with its proof of possession',
      north,
      buildValidatorVote({ chainId: VECTOR_CHAIN_ID, seed: north.seed, nonce: 0, fee: 25n, action: 'add', validator: add }),
      voteBody(0, add),
    ),
    vector(
      'validator-vote-remove',
      'dso-north votes to remove dso-west (the proof of possession field is empty)',
      north,
      buildValidatorVote({ chainId: VECTOR_CHAIN_ID, seed: north.seed, nonce: 1, fee: 25n, action: 'remove', validator: remove }),
      voteBody(1, remove),
    ),
    vector(
      'evidence',
      'alice reports that dso-south signed two PREPAREs for different blocks at height 7, round 0',
      alice,
      buildEvidenceTx({ chainId: VECTOR_CHAIN_ID, seed: alice.seed, nonce: 2, fee: 25n, evidence: evidenceBody }),
      { first: coreFields(evidence.first), second: coreFields(evidence.second) },
    ),
    ...validDeviceTxVectors(vector),
    ...validTelemetryTxVectors(vector),
    ...validEnergyTxVectors(vector),
    ...validCommandTxVectors(vector),
    ...validMarketTxVectors(vector),
    ...validAgreementTxVectors(vector),
    ...validFlexTxVectors(vector),
    ...validReversalTxVectors(vector),
  ];
}
