import { concatBytes, utf8 } from '../../core/bytes.ts';
import { encode, type Encodable } from '../../core/codec.ts';
import { Domain, signingBytes } from '../../core/domain.ts';
import { ErrorCode } from '../../core/errors.ts';
import { encodeEvidence, evidenceToWire, makeEvidence } from '../../core/evidence.ts';
import { ed25519Sign, formatAddress } from '../../core/keys.ts';
import { coreToWire, type SignedCore, type Vote } from '../../core/signed-core.ts';
import { encodeTransferBody } from '../../core/tx/transfer.ts';
import { TxType } from '../../core/tx/types.ts';
import { hex } from './notation.ts';
import { KEYS, popOf, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';
import { equivocatingPrepares, signCore } from './valid-txs.ts';

/**
 * Invalid transactions, each with the one defect its name says (everything else about it
 * is valid against the file's `context`), and the typed error the node answers with: the
 * `error.data` of joule_sendRawTransaction. The expected errors are written here by hand,
 * never computed by running the code, so the test that feeds these bytes to the node's
 * decoder and validator checks the code against them.
 */
export interface InvalidTxVector {
  name: string;
  description: string;
  /** decodeTx: any node rejects the bytes as such; validateTx: rejected against the chain in `context`. */
  rejectedBy: 'decodeTx' | 'validateTx';
  encodedTx: string;
  error: { code: string; field: string };
}

interface Fields {
  chainId: Encodable;
  type: Encodable;
  sender: Encodable;
  nonce: Encodable;
  fee: Encodable;
  body: Encodable;
}

interface Signing {
  /** Who signs (default: the sender's key). */
  readonly key?: VectorKey;
  /** The chain id in the signed payload (default: the envelope's). */
  readonly chainId?: string;
  /** Leave the domain tag out of the signed payload. */
  readonly untagged?: boolean;
}

function signatureOf(f: Fields, key: VectorKey, s: Signing): Uint8Array {
  const chainId = s.chainId ?? (f.chainId as string);
  const rest = [f.type, f.sender, f.nonce, f.fee, f.body];
  return ed25519Sign((s.key ?? key).seed, s.untagged === true ? encode([chainId, ...rest]) : signingBytes(Domain.tx, chainId, rest));
}

/** The canonical encoding of each of the 7 envelope fields, signed; callers may swap any for other bytes. */
function parts(f: Fields, key: VectorKey, s: Signing = {}): Uint8Array[] {
  return [f.chainId, f.type, f.sender, f.nonce, f.fee, f.body, signatureOf(f, key, s)].map((v) => encode(v));
}

/** An array's encoding is its header then its elements' encodings: 0x90 | n for up to 15 elements. */
function array(elements: readonly Uint8Array[]): Uint8Array {
  return concatBytes(new Uint8Array([0x90 | elements.length]), ...elements);
}

const bytes = (...b: number[]) => new Uint8Array(b);

const transferBody = (amount: bigint) => encodeTransferBody({ to: KEYS.bob.address, amount });
const transferFields = (over: Partial<Fields> = {}): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type: TxType.transfer,
  sender: KEYS.alice.publicKey,
  nonce: 0,
  fee: 10n,
  body: transferBody(1000n),
  ...over,
});
const tx = (f: Fields, s: Signing = {}, key: VectorKey = KEYS.alice) => array(parts(f, key, s));

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
const addBody = (over: Partial<Record<'action' | 'name' | 'blsKey' | 'pop', Encodable>> = {}): Encodable[] => [
  over.action ?? 0,
  over.name ?? c.name,
  c.publicKey,
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

function invalid(name: string, rejectedBy: InvalidTxVector['rejectedBy'], code: string, field: string, description: string, encoded: Uint8Array): InvalidTxVector {
  return { name, description, rejectedBy, encodedTx: hex(encoded), error: { code, field } };
}

export function invalidTxVectors(): InvalidTxVector[] {
  const { NON_CANONICAL, MALFORMED, WRONG_TYPE } = { NON_CANONICAL: ErrorCode.CODEC_NON_CANONICAL, MALFORMED: ErrorCode.CODEC_MALFORMED, WRONG_TYPE: ErrorCode.CODEC_WRONG_TYPE };
  const base = parts(transferFields({ nonce: 5 }), KEYS.alice);
  const swap = (i: number, b: Uint8Array) => array(base.map((p, k) => (k === i ? b : p)));
  const good = array(base);
  const [p1, p2] = equivocatingPrepares();
  const ordered = makeEvidence(p1, p2);
  const pair = (a: SignedCore | Encodable[], b: SignedCore | Encodable[]) => encode([Array.isArray(a) ? a : coreToWire(a as SignedCore), Array.isArray(b) ? b : coreToWire(b as SignedCore)]);
  const otherHeight = signCore(KEYS.south, { kind: 1, height: 8, round: 0, author: KEYS.south.address, digest: (ordered.second as Vote).digest });
  const shortSignature = [...coreToWire(ordered.first).slice(0, 5), new Uint8Array(63)];
  return [
    // ---- the envelope, rejected by decodeTx whatever the chain's state ----
    invalid('nonce-not-narrowest', 'decodeTx', NON_CANONICAL, 'tx', 'nonce 5 written as uint8 (0xcc 0x05) instead of positive fixint 0x05', swap(3, bytes(0xcc, 5))),
    invalid('fee-as-float', 'decodeTx', NON_CANONICAL, 'tx[4]', 'fee written as float64 10.5 (0xcb ...): floats are not part of the encoding', swap(4, bytes(0xcb, 0x40, 0x25, 0, 0, 0, 0, 0, 0))),
    invalid('sender-bin16-header', 'decodeTx', NON_CANONICAL, 'tx', 'the 32-byte sender under a bin16 header (0xc5 0x00 0x20) instead of bin8 (0xc4 0x20)', swap(2, concatBytes(bytes(0xc5, 0, 32), KEYS.alice.publicKey))),
    invalid('chain-id-str8-header', 'decodeTx', NON_CANONICAL, 'tx', 'a 13-byte chain id under a str8 header (0xd9 0x0d) instead of fixstr (0xad)', swap(0, concatBytes(bytes(0xd9, 13), utf8(VECTOR_CHAIN_ID)))),
    invalid('trailing-byte', 'decodeTx', MALFORMED, 'tx', 'one byte (0x00) after the envelope', concatBytes(good, bytes(0))),
    invalid('truncated', 'decodeTx', MALFORMED, 'tx', 'the last byte of the signature missing', good.subarray(0, good.length - 1)),
    invalid('envelope-as-map', 'decodeTx', NON_CANONICAL, 'tx', 'a map {"chainId": "joule-vectors"} instead of the 7-element array', concatBytes(bytes(0x81), encode('chainId'), encode(VECTOR_CHAIN_ID))),
    invalid('six-fields', 'decodeTx', WRONG_TYPE, 'tx', 'the envelope without its signature: 6 elements (0x96)', array(base.slice(0, 6))),
    invalid('sender-33-bytes', 'decodeTx', WRONG_TYPE, 'tx.sender', 'the sender is 33 bytes', tx(transferFields({ sender: concatBytes(KEYS.alice.publicKey, bytes(0)) }))),
    invalid('signature-63-bytes', 'decodeTx', WRONG_TYPE, 'tx.signature', 'the signature is 63 bytes', swap(6, encode(new Uint8Array(63)))),
    invalid('chain-id-65-characters', 'decodeTx', WRONG_TYPE, 'tx.chainId', 'a chain id of 65 characters (at most 64)', tx(transferFields({ chainId: 'j'.repeat(65) }))),
    invalid('chain-id-as-bytes', 'decodeTx', WRONG_TYPE, 'tx.chainId', 'the chain id as bin (its UTF-8 bytes) instead of str', swap(0, encode(utf8(VECTOR_CHAIN_ID)))),
    invalid('type-as-string', 'decodeTx', WRONG_TYPE, 'tx.type', 'the type as the string "transfer" instead of the integer 1', swap(1, encode('transfer'))),
    invalid('nonce-2-pow-53', 'decodeTx', WRONG_TYPE, 'tx.nonce', 'nonce 2^53 (at most 2^53-1)', tx(transferFields({ nonce: 2n ** 53n }))),
    invalid('fee-negative', 'decodeTx', WRONG_TYPE, 'tx.fee', 'fee -1 (negative fixint 0xff)', tx(transferFields({ fee: -1 }))),
    invalid('body-not-wrapped', 'decodeTx', WRONG_TYPE, 'tx.body', 'the body array placed in the envelope as is, instead of as bin holding its encoding', tx(transferFields({ body: [KEYS.bob.address, 1000] }))),
    // ---- the envelope against the chain ----
    invalid('wrong-chain', 'validateTx', ErrorCode.TX_WRONG_CHAIN, 'tx.chainId', 'signed for, and sent to, another chain id ("joule-other")', tx(transferFields({ chainId: 'joule-other' }))),
    invalid('unknown-type', 'validateTx', ErrorCode.TX_UNKNOWN_TYPE, 'tx.type', 'type 99 is not registered', tx(transferFields({ type: 99 }))),
    invalid('fee-below-minimum', 'validateTx', ErrorCode.TX_FEE_TOO_LOW, 'tx.fee', 'fee 9, below the chain minimum 10', tx(transferFields({ fee: 9n }))),
    invalid('signature-bit-flipped', 'validateTx', ErrorCode.TX_BAD_SIGNATURE, 'tx.signature', 'the last bit of the signature flipped', swap(6, encode(flipLastBit(base[6]!.subarray(2))))),
    invalid('signed-by-another-key', 'validateTx', ErrorCode.TX_BAD_SIGNATURE, 'tx.signature', "alice's tx signed with bob's key", tx(transferFields(), { key: KEYS.bob })),
    invalid('signed-for-another-chain', 'validateTx', ErrorCode.TX_BAD_SIGNATURE, 'tx.signature', 'the envelope says joule-vectors, the signed payload joule-other', tx(transferFields(), { chainId: 'joule-other' })),
    invalid('signed-without-domain-tag', 'validateTx', ErrorCode.TX_BAD_SIGNATURE, 'tx.signature', 'signed payload without the leading "JOULE/tx/v1"', tx(transferFields(), { untagged: true })),
    // ---- transfer bodies ----
    invalid('transfer-amount-zero', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body.amount', 'amount 0 (at least 1)', tx(transferFields({ body: encode([KEYS.bob.address, 0]) }))),
    invalid('transfer-amount-negative', 'validateTx', WRONG_TYPE, 'tx.body.amount', 'amount -1', tx(transferFields({ body: encode([KEYS.bob.address, -1]) }))),
    invalid('transfer-amount-uint64-form', 'validateTx', NON_CANONICAL, 'tx.body', 'amount 2^32 written as uint64 (0xcf ...), the form most msgpack libraries choose; the canonical form is int64 (0xd3 ...)', tx(transferFields({ body: concatBytes(bytes(0x92), encode(KEYS.bob.address), bytes(0xcf, 0, 0, 0, 1, 0, 0, 0, 0)) }))),
    invalid('transfer-recipient-19-bytes', 'validateTx', WRONG_TYPE, 'tx.body.to', 'a 19-byte recipient', tx(transferFields({ body: encode([KEYS.bob.address.subarray(0, 19), 1000]) }))),
    invalid('transfer-recipient-as-text', 'validateTx', WRONG_TYPE, 'tx.body.to', 'the recipient as its bech32 text instead of its 20 bytes', tx(transferFields({ body: encode([formatAddress(KEYS.bob.address), 1000]) }))),
    invalid('transfer-body-trailing-byte', 'validateTx', MALFORMED, 'tx.body', 'one byte (0x00) after the body', tx(transferFields({ body: concatBytes(transferBody(1000n), bytes(0)) }))),
    invalid('transfer-exceeds-balance', 'validateTx', ErrorCode.TX_INSUFFICIENT_BALANCE, 'tx.body.amount', 'dso-north holds 1,000,000 and sends all of it, leaving nothing for the fee', tx(transferFields({ sender: KEYS.north.publicKey, body: transferBody(1_000_000n) }), {}, KEYS.north)),
    // ---- validator-vote bodies ----
    invalid('vote-fee-below-tier', 'validateTx', ErrorCode.TX_FEE_TOO_LOW, 'tx.fee', 'fee 24: above the chain minimum, below the grid_balancing tier base fee 25', tx(voteFields(addBody(), { fee: 24n }), {}, KEYS.north)),
    invalid('vote-action-2', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body.action', 'action 2 (0 add, 1 remove)', tx(voteFields(addBody({ action: 2 })), {}, KEYS.north)),
    invalid('vote-name-with-space', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body.name', 'name "aggregator one": a space is not allowed', tx(voteFields(addBody({ name: 'aggregator one' })), {}, KEYS.north)),
    invalid('vote-bls-key-47-bytes', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body.blsKey', 'a 47-byte BLS key', tx(voteFields(addBody({ blsKey: c.bls!.publicKey.subarray(0, 47) })), {}, KEYS.north)),
    invalid('vote-remove-with-proof', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body.blsProofOfPossession', 'a remove carrying a proof of possession (must be empty)', tx(voteFields([1, KEYS.west.name, KEYS.west.publicKey, KEYS.west.bls!.publicKey, popOf(KEYS.west)]), {}, KEYS.north)),
    invalid('vote-proof-for-another-chain', 'validateTx', ErrorCode.TX_BAD_SIGNATURE, 'tx.body', 'an add whose proof of possession was made for chain joule-other', tx(voteFields(addBody({ pop: popOf(c, 'joule-other') })), {}, KEYS.north)),
    invalid('vote-by-non-validator', 'validateTx', ErrorCode.TX_UNAUTHORIZED, 'tx.sender', 'alice is not a validator; only validators vote', tx(voteFields(addBody(), { sender: KEYS.alice.publicKey }))),
    // ---- evidence bodies ----
    invalid('evidence-heights-differ', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body', 'two PREPAREs by dso-south at heights 7 and 8: not the same slot', tx(evidenceFields(pair(ordered.first, otherHeight)))),
    invalid('evidence-wrong-order', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body', 'the pair with its larger encoding first', tx(evidenceFields(encode(evidenceToWire(ordered).reverse())))),
    invalid('evidence-same-message-twice', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body', 'one PREPARE twice: no equivocation', tx(evidenceFields(pair(ordered.first, ordered.first)))),
    invalid('evidence-short-signature', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body.first.signature', 'the first message with a 63-byte signature', tx(evidenceFields(pair(shortSignature, ordered.second)))),
    invalid('evidence-oversize', 'validateTx', ErrorCode.TX_INVALID_FIELD, 'tx.body', 'an evidence body of 2049 bytes (at most 2048)', tx(evidenceFields(concatBytes(encodeEvidence(ordered), new Uint8Array(2049 - encodeEvidence(ordered).length))))),
  ];
}

function flipLastBit(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b);
  out[out.length - 1]! ^= 1;
  return out;
}
