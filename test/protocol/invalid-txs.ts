import { concatBytes, utf8 } from '../../core/bytes.ts';
import { encode } from '../../core/codec.ts';
import { ErrorCode } from '../../core/errors.ts';
import { invalidDeviceTxVectors } from './device-vectors.ts';
import { invalidTelemetryTxVectors } from './telemetry-vectors.ts';
import { invalidCommandTxVectors } from './command-vectors.ts';
import { invalidEnergyTxVectors } from './energy-vectors.ts';
import { invalidMarketTxVectors } from './market-vectors.ts';
import { invalidAgreementTxVectors } from './agreement-vectors.ts';
import { invalidFlexTxVectors } from './flex-vectors.ts';
import { invalidReversalTxVectors } from './reversal-vectors.ts';
import { invalidBodyVectors } from './invalid-bodies.ts';
import { array, bytes, flipLastBit, type InvalidTxVector, invalid, parts, transferFields, tx } from './invalid-tx-builder.ts';
import { KEYS, VECTOR_CHAIN_ID } from './vector-keys.ts';

/** The invalid transactions of the vector file: the envelope's defects first, then each type's body. */
export function invalidTxVectors(): InvalidTxVector[] {
  return [
    ...envelopeVectors(),
    ...invalidBodyVectors(),
    ...invalidDeviceTxVectors(),
    ...invalidTelemetryTxVectors(),
    ...invalidEnergyTxVectors(),
    ...invalidCommandTxVectors(),
    ...invalidMarketTxVectors(),
    ...invalidAgreementTxVectors(),
    ...invalidFlexTxVectors(),
    ...invalidReversalTxVectors(),
  ];
}

/** Defects of the envelope, in a transfer that is otherwise valid. */
function envelopeVectors(): InvalidTxVector[] {
  const { NON_CANONICAL, MALFORMED, WRONG_TYPE } = {
    NON_CANONICAL: ErrorCode.CODEC_NON_CANONICAL,
    MALFORMED: ErrorCode.CODEC_MALFORMED,
    WRONG_TYPE: ErrorCode.CODEC_WRONG_TYPE,
  };
  const base = parts(transferFields({ nonce: 5 }), KEYS.alice);
  const swap = (i: number, b: Uint8Array) => array(base.map((p, k) => (k === i ? b : p)));
  const good = array(base);
  return [
    // ---- the envelope, rejected by decodeTx whatever the chain's state ----
    invalid(
      'nonce-not-narrowest',
      'decodeTx',
      NON_CANONICAL,
      'tx',
      'nonce 5 written as uint8 (0xcc 0x05) instead of positive fixint 0x05',
      swap(3, bytes(0xcc, 5)),
    ),
    invalid(
      'fee-as-float',
      'decodeTx',
      NON_CANONICAL,
      'tx[4]',
      'fee written as float64 10.5 (0xcb ...): floats are not part of the encoding',
      swap(4, bytes(0xcb, 0x40, 0x25, 0, 0, 0, 0, 0, 0)),
    ),
    invalid(
      'sender-bin16-header',
      'decodeTx',
      NON_CANONICAL,
      'tx',
      'the 32-byte sender under a bin16 header (0xc5 0x00 0x20) instead of bin8 (0xc4 0x20)',
      swap(2, concatBytes(bytes(0xc5, 0, 32), KEYS.alice.publicKey)),
    ),
    invalid(
      'chain-id-str8-header',
      'decodeTx',
      NON_CANONICAL,
      'tx',
      'a 13-byte chain id under a str8 header (0xd9 0x0d) instead of fixstr (0xad)',
      swap(0, concatBytes(bytes(0xd9, 13), utf8(VECTOR_CHAIN_ID))),
    ),
    invalid('trailing-byte', 'decodeTx', MALFORMED, 'tx', 'one byte (0x00) after the envelope', concatBytes(good, bytes(0))),
    invalid('truncated', 'decodeTx', MALFORMED, 'tx', 'the last byte of the signature missing', good.subarray(0, good.length - 1)),
    invalid(
      'envelope-as-map',
      'decodeTx',
      NON_CANONICAL,
      'tx',
      'a map {"chainId": "joule-vectors"} instead of the 7-element array',
      concatBytes(bytes(0x81), encode('chainId'), encode(VECTOR_CHAIN_ID)),
    ),
    invalid('six-fields', 'decodeTx', WRONG_TYPE, 'tx', 'the envelope without its signature: 6 elements (0x96)', array(base.slice(0, 6))),
    invalid(
      'sender-33-bytes',
      'decodeTx',
      WRONG_TYPE,
      'tx.sender',
      'the sender is 33 bytes',
      tx(transferFields({ sender: concatBytes(KEYS.alice.publicKey, bytes(0)) })),
    ),
    invalid('signature-63-bytes', 'decodeTx', WRONG_TYPE, 'tx.signature', 'the signature is 63 bytes', swap(6, encode(new Uint8Array(63)))),
    invalid(
      'chain-id-65-characters',
      'decodeTx',
      WRONG_TYPE,
      'tx.chainId',
      'a chain id of 65 characters (at most 64)',
      tx(transferFields({ chainId: 'j'.repeat(65) })),
    ),
    invalid(
      'chain-id-as-bytes',
      'decodeTx',
      WRONG_TYPE,
      'tx.chainId',
      'the chain id as bin (its UTF-8 bytes) instead of str',
      swap(0, encode(utf8(VECTOR_CHAIN_ID))),
    ),
    invalid('type-as-string', 'decodeTx', WRONG_TYPE, 'tx.type', 'the type as the string "transfer" instead of the integer 1', swap(1, encode('transfer'))),
    invalid('nonce-2-pow-53', 'decodeTx', WRONG_TYPE, 'tx.nonce', 'nonce 2^53 (at most 2^53-1)', tx(transferFields({ nonce: 2n ** 53n }))),
    invalid('fee-negative', 'decodeTx', WRONG_TYPE, 'tx.fee', 'fee -1 (negative fixint 0xff)', tx(transferFields({ fee: -1 }))),
    invalid(
      'body-not-wrapped',
      'decodeTx',
      WRONG_TYPE,
      'tx.body',
      'the body array placed in the envelope as is, instead of as bin holding its encoding',
      tx(transferFields({ body: [KEYS.bob.address, 1000] })),
    ),
    // ---- the envelope against the chain ----
    invalid(
      'wrong-chain',
      'validateTx',
      ErrorCode.TX_WRONG_CHAIN,
      'tx.chainId',
      'signed for, and sent to, another chain id ("joule-other")',
      tx(transferFields({ chainId: 'joule-other' })),
    ),
    invalid('unknown-type', 'validateTx', ErrorCode.TX_UNKNOWN_TYPE, 'tx.type', 'type 99 is not registered', tx(transferFields({ type: 99 }))),
    invalid('fee-below-minimum', 'validateTx', ErrorCode.TX_FEE_TOO_LOW, 'tx.fee', 'fee 9, below the chain minimum 10', tx(transferFields({ fee: 9n }))),
    invalid(
      'signature-bit-flipped',
      'validateTx',
      ErrorCode.TX_BAD_SIGNATURE,
      'tx.signature',
      'the last bit of the signature flipped',
      swap(6, encode(flipLastBit(base[6]!.subarray(2)))),
    ),
    invalid(
      'signed-by-another-key',
      'validateTx',
      ErrorCode.TX_BAD_SIGNATURE,
      'tx.signature',
      "alice's tx signed with bob's key",
      tx(transferFields(), { key: KEYS.bob }),
    ),
    invalid(
      'signed-for-another-chain',
      'validateTx',
      ErrorCode.TX_BAD_SIGNATURE,
      'tx.signature',
      'the envelope says joule-vectors, the signed payload joule-other',
      tx(transferFields(), { chainId: 'joule-other' }),
    ),
    invalid(
      'signed-without-domain-tag',
      'validateTx',
      ErrorCode.TX_BAD_SIGNATURE,
      'tx.signature',
      'signed payload without the leading "JOULE/tx/v1"',
      tx(transferFields(), { untagged: true }),
    ),
  ];
}
