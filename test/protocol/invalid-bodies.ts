import { concatBytes, utf8 } from '../../core/bytes.ts';
import { encode, type Encodable } from '../../core/codec.ts';
import { ErrorCode } from '../../core/errors.ts';
import { encodeEvidence, evidenceToWire, makeEvidence } from '../../core/evidence.ts';
import { sha256 } from '../../core/hash.ts';
import { ed25519Sign, formatAddress } from '../../core/keys.ts';
import { coreToWire, messageSigningBytes, type SignedCore, type Vote } from '../../core/signed-core.ts';
import { TxType } from '../../core/tx/types.ts';
import { bytes, type Fields, type InvalidTxVector, invalid, transferBody, transferFields, tx } from './invalid-tx-builder.ts';
import { equivocatingPrepares, signCore } from './valid-txs.ts';
import { KEYS, popOf, VECTOR_CHAIN_ID } from './vector-keys.ts';

const voteFields = (body: Encodable[], over: Partial<Fields> = {}): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type: TxType.validatorVote,
  sender: KEYS.north.publicKey,
  nonce: 0,
  fee: 25n,
  body: encode(body),
  ...over,
});
const c = KEYS.candidate;
const addBody = (over: Partial<Record<'action' | 'name' | 'identityKey' | 'blsKey' | 'pop', Encodable>> = {}): Encodable[] => [
  over.action ?? 0,
  over.name ?? c.name,
  over.identityKey ?? c.publicKey,
  over.blsKey ?? c.bls!.publicKey,
  over.pop ?? popOf(c),
];

const evidenceFields = (body: Uint8Array): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type: TxType.evidence,
  sender: KEYS.alice.publicKey,
  nonce: 0,
  fee: 25n,
  body,
});

/** Defects of each type's body (and of the rules of its type), in envelopes that are otherwise valid. */
export function invalidBodyVectors(): InvalidTxVector[] {
  const { NON_CANONICAL, MALFORMED, WRONG_TYPE } = {
    NON_CANONICAL: ErrorCode.CODEC_NON_CANONICAL,
    MALFORMED: ErrorCode.CODEC_MALFORMED,
    WRONG_TYPE: ErrorCode.CODEC_WRONG_TYPE,
  };
  const [p1, p2] = equivocatingPrepares();
  const ordered = makeEvidence(p1, p2);
  const pair = (a: SignedCore | Encodable[], b: SignedCore | Encodable[]) =>
    encode([Array.isArray(a) ? a : coreToWire(a as SignedCore), Array.isArray(b) ? b : coreToWire(b as SignedCore)]);
  const otherHeight = signCore(KEYS.south, { kind: 1, height: 8, round: 0, author: KEYS.south.address, digest: (ordered.second as Vote).digest });
  const shortSignature = [...coreToWire(ordered.first).slice(0, 5), new Uint8Array(63)];
  // The second PREPARE with a signature by another key: shape and slot right, signature wrong.
  const forged = makeEvidence(ordered.first, {
    ...(ordered.second as Vote),
    signature: ed25519Sign(KEYS.north.seed, messageSigningBytes(VECTOR_CHAIN_ID, ordered.second)),
  });
  // alice is no validator: two PREPAREs she signed prove nothing.
  const byAlice = (label: string) => signCore(KEYS.alice, { kind: 1, height: 7, round: 0, author: KEYS.alice.address, digest: sha256(utf8(label)) });
  const notValidator = makeEvidence(byAlice('block A at height 7'), byAlice('block B at height 7'));
  // y = 2 (0x02, then 31 zero bytes) has no x on the curve: 32 bytes, but no public key.
  const offCurve = concatBytes(bytes(2), new Uint8Array(31));
  const { east, west } = KEYS;
  return [
    // ---- transfer bodies ----
    invalid(
      'transfer-amount-zero',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.amount',
      'amount 0 (at least 1)',
      tx(transferFields({ body: encode([KEYS.bob.address, 0]) })),
    ),
    invalid('transfer-amount-negative', 'validateTx', WRONG_TYPE, 'tx.body.amount', 'amount -1', tx(transferFields({ body: encode([KEYS.bob.address, -1]) }))),
    invalid(
      'transfer-amount-uint64-form',
      'validateTx',
      NON_CANONICAL,
      'tx.body',
      'amount 2^32 written as uint64 (0xcf ...), the form most msgpack libraries choose; the canonical form is int64 (0xd3 ...)',
      tx(transferFields({ body: concatBytes(bytes(0x92), encode(KEYS.bob.address), bytes(0xcf, 0, 0, 0, 1, 0, 0, 0, 0)) })),
    ),
    invalid(
      'transfer-recipient-19-bytes',
      'validateTx',
      WRONG_TYPE,
      'tx.body.to',
      'a 19-byte recipient',
      tx(transferFields({ body: encode([KEYS.bob.address.subarray(0, 19), 1000]) })),
    ),
    invalid(
      'transfer-recipient-as-text',
      'validateTx',
      WRONG_TYPE,
      'tx.body.to',
      'the recipient as its bech32 text instead of its 20 bytes',
      tx(transferFields({ body: encode([formatAddress(KEYS.bob.address), 1000]) })),
    ),
    invalid(
      'transfer-body-trailing-byte',
      'validateTx',
      MALFORMED,
      'tx.body',
      'one byte (0x00) after the body',
      tx(transferFields({ body: concatBytes(transferBody(1000n), bytes(0)) })),
    ),
    invalid(
      'transfer-exceeds-balance',
      'validateTx',
      ErrorCode.TX_INSUFFICIENT_BALANCE,
      'tx.body.amount',
      'dso-north holds 1,000,000 and sends all of it, leaving nothing for the fee',
      tx(transferFields({ sender: KEYS.north.publicKey, body: transferBody(1_000_000n) }), {}, KEYS.north),
    ),
    // ---- validator-vote bodies ----
    invalid(
      'vote-fee-below-tier',
      'validateTx',
      ErrorCode.TX_FEE_TOO_LOW,
      'tx.fee',
      'fee 24: above the chain minimum, below the grid_balancing tier base fee 25',
      tx(voteFields(addBody(), { fee: 24n }), {}, KEYS.north),
    ),
    invalid(
      'vote-action-2',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.action',
      'action 2 (0 add, 1 remove)',
      tx(voteFields(addBody({ action: 2 })), {}, KEYS.north),
    ),
    invalid(
      'vote-name-with-space',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.name',
      'name "aggregator one": a space is not allowed',
      tx(voteFields(addBody({ name: 'aggregator one' })), {}, KEYS.north),
    ),
    invalid(
      'vote-bls-key-47-bytes',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.blsKey',
      'a 47-byte BLS key',
      tx(voteFields(addBody({ blsKey: c.bls!.publicKey.subarray(0, 47) })), {}, KEYS.north),
    ),
    invalid(
      'vote-remove-with-proof',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.blsProofOfPossession',
      'a remove carrying a proof of possession (must be empty)',
      tx(voteFields([1, KEYS.west.name, KEYS.west.publicKey, KEYS.west.bls!.publicKey, popOf(KEYS.west)]), {}, KEYS.north),
    ),
    invalid(
      'vote-proof-for-another-chain',
      'validateTx',
      ErrorCode.TX_BAD_SIGNATURE,
      'tx.body',
      'an add whose proof of possession was made for chain joule-other',
      tx(voteFields(addBody({ pop: popOf(c, 'joule-other') })), {}, KEYS.north),
    ),
    invalid(
      'vote-identity-key-off-curve',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.identityKey',
      'an add whose identity key (0x02 then 31 zero bytes) is not a point of Ed25519',
      tx(voteFields(addBody({ identityKey: offCurve })), {}, KEYS.north),
    ),
    invalid(
      'vote-add-existing-member',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.identityKey',
      'an add of dso-east, already a validator',
      tx(voteFields([0, east.name, east.publicKey, east.bls!.publicKey, popOf(east)]), {}, KEYS.north),
    ),
    invalid(
      'vote-remove-wrong-name',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.name',
      'a remove of dso-west under another name ("dso-wes"): name and keys must match the member',
      tx(voteFields([1, 'dso-wes', west.publicKey, west.bls!.publicKey, new Uint8Array(0)]), {}, KEYS.north),
    ),
    invalid(
      'vote-by-non-validator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'alice is not a validator; only validators vote',
      tx(voteFields(addBody(), { sender: KEYS.alice.publicKey })),
    ),
    // ---- evidence bodies ----
    invalid(
      'evidence-heights-differ',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body',
      'two PREPAREs by dso-south at heights 7 and 8: not the same slot',
      tx(evidenceFields(pair(ordered.first, otherHeight))),
    ),
    invalid(
      'evidence-wrong-order',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body',
      'the pair with its larger encoding first',
      tx(evidenceFields(encode(evidenceToWire(ordered).reverse()))),
    ),
    invalid(
      'evidence-same-message-twice',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body',
      'one PREPARE twice: no equivocation',
      tx(evidenceFields(pair(ordered.first, ordered.first))),
    ),
    invalid(
      'evidence-short-signature',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.first.signature',
      'the first message with a 63-byte signature',
      tx(evidenceFields(pair(shortSignature, ordered.second))),
    ),
    invalid(
      'evidence-forged-signature',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body',
      "dso-south's second PREPARE carrying a signature made with dso-north's key",
      tx(evidenceFields(encodeEvidence(forged))),
    ),
    invalid(
      'evidence-author-not-validator',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body',
      'two PREPAREs signed by alice, who is not a validator',
      tx(evidenceFields(encodeEvidence(notValidator))),
    ),
    invalid(
      'evidence-oversize',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body',
      'an evidence body of 2049 bytes (at most 2048)',
      tx(evidenceFields(concatBytes(encodeEvidence(ordered), new Uint8Array(2049 - encodeEvidence(ordered).length)))),
    ),
  ];
}
