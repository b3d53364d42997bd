import { concatBytes } from '../../core/bytes.ts';
import { encode, type Encodable } from '../../core/codec.ts';
import { Domain, signingBytes } from '../../core/domain.ts';
import { ed25519Sign } from '../../core/keys.ts';
import { encodeTransferBody } from '../../core/tx/transfer.ts';
import { TxType } from '../../core/tx/types.ts';
import { hex } from './notation.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * How the invalid transactions of the vector file are made (invalid-txs.ts: the envelope;
 * invalid-bodies.ts: each type's body). Each has the one defect its name says (everything
 * else about it is valid against the file's `context`) and the typed error the node answers
 * with: the `error.data` of joule_sendRawTransaction. The expected errors are written here by hand,
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

export interface Fields {
  chainId: Encodable;
  type: Encodable;
  sender: Encodable;
  nonce: Encodable;
  fee: Encodable;
  body: Encodable;
}

export interface Signing {
  /** Who signs (default: the sender's key). */
  readonly key?: VectorKey;
  /** The chain id in the signed payload (default: the envelope's). */
  readonly chainId?: string;
  /** Leave the domain tag out of the signed payload. */
  readonly untagged?: boolean;
}

export function signatureOf(f: Fields, key: VectorKey, s: Signing): Uint8Array {
  const chainId = s.chainId ?? (f.chainId as string);
  const rest = [f.type, f.sender, f.nonce, f.fee, f.body];
  return ed25519Sign((s.key ?? key).seed, s.untagged === true ? encode([chainId, ...rest]) : signingBytes(Domain.tx, chainId, rest));
}

/** The canonical encoding of each of the 7 envelope fields, signed; callers may swap any for other bytes. */
export function parts(f: Fields, key: VectorKey, s: Signing = {}): Uint8Array[] {
  return [f.chainId, f.type, f.sender, f.nonce, f.fee, f.body, signatureOf(f, key, s)].map((v) => encode(v));
}

/** An array's encoding is its header then its elements' encodings: 0x90 | n for up to 15 elements. */
export function array(elements: readonly Uint8Array[]): Uint8Array {
  return concatBytes(new Uint8Array([0x90 | elements.length]), ...elements);
}

export const bytes = (...b: number[]) => new Uint8Array(b);

export const transferBody = (amount: bigint) => encodeTransferBody({ to: KEYS.bob.address, amount });
export const transferFields = (over: Partial<Fields> = {}): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type: TxType.transfer,
  sender: KEYS.alice.publicKey,
  nonce: 0,
  fee: 10n,
  body: transferBody(1000n),
  ...over,
});
export const tx = (f: Fields, s: Signing = {}, key: VectorKey = KEYS.alice) => array(parts(f, key, s));

export function invalid(
  name: string,
  rejectedBy: InvalidTxVector['rejectedBy'],
  code: string,
  field: string,
  description: string,
  encoded: Uint8Array,
): InvalidTxVector {
  return { name, description, rejectedBy, encodedTx: hex(encoded), error: { code, field } };
}

export function flipLastBit(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b);
  out[out.length - 1]! ^= 1;
  return out;
}
