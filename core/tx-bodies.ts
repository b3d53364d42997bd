import { decode, encode, readAmount, readArray, readBytes, readString, readUint } from './codec.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { ADDRESS_LENGTH, BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH, ED25519_PUBLIC_KEY_LENGTH, ed25519FromSeed } from './keys.ts';
import { signTx, type Tx } from './tx.ts';

/**
 * Transaction type ids and the pure body codecs that clients (CLI, load generators,
 * tests) need to build transactions without importing vm/. The VM's registry
 * (vm/registry.ts) maps each id to its validation and execution; ids are part of the
 * signed envelope, so they are never reused or renumbered.
 */
export const TxType = {
  transfer: 1,
  /** Validator set change by vote of the current validators (vm/validator-vote.ts). */
  validatorVote: 2,
  /** Equivocation evidence: body = consensus/evidence.ts encodeEvidence (vm/evidence.ts). */
  evidence: 3,
  // 16..31 energy ledger (telemetry batch, mint, energy transfer, retire), 32..47 markets.
} as const;
export type TxTypeId = (typeof TxType)[keyof typeof TxType];

// ---------------- transfer ----------------

/** Settlement-currency transfer. Wire form: [to (20-byte address), amount (integer > 0, micro-units)] */
export interface TransferBody {
  readonly to: Uint8Array;
  readonly amount: bigint;
}

function checkTransfer(to: Uint8Array, amount: bigint): void {
  if (!(to instanceof Uint8Array) || to.length !== ADDRESS_LENGTH) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `recipient must be a ${ADDRESS_LENGTH}-byte address`, 'tx.body.to');
  }
  if (amount <= 0n) throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'amount must be greater than 0', 'tx.body.amount');
}

export function encodeTransferBody(body: { to: Uint8Array; amount: bigint | number }): Uint8Array {
  const amount = BigInt(body.amount);
  checkTransfer(body.to, amount);
  return encode([body.to, amount]);
}

/**
 * Fast path for the one shape a valid transfer body can have:
 * 0x92 (array of 2), 0xc4 0x14 (bin8, 20 bytes) <address>, then the amount in msgpack's
 * form the canonical codec writes (msgpackr's choice): positive fixint 1..0x7f,
 * uint8 0xcc >= 0x80, uint16 0xcd >= 0x100, uint32 0xce >= 0x10000, int64 0xd3 for
 * 2^32..2^63-1, uint64 0xcf >= 2^63. Anything else (including
 * every invalid input) returns undefined and goes through the generic decoder, which
 * produces the precise error; tests check that both paths agree on every input.
 */
function decodeTransferFast(b: Uint8Array): TransferBody | undefined {
  if (b.length < 24 || b[0] !== 0x92 || b[1] !== 0xc4 || b[2] !== ADDRESS_LENGTH) return undefined;
  const tag = b[23]!;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let amount: bigint;
  let end: number;
  if (tag >= 0x01 && tag <= 0x7f) {
    amount = BigInt(tag);
    end = 24;
  } else if (tag === 0xcc && b.length === 25 && b[24]! >= 0x80) {
    amount = BigInt(b[24]!);
    end = 25;
  } else if (tag === 0xcd && b.length === 26 && view.getUint16(24) >= 0x100) {
    amount = BigInt(view.getUint16(24));
    end = 26;
  } else if (tag === 0xce && b.length === 28 && view.getUint32(24) >= 0x10000) {
    amount = BigInt(view.getUint32(24));
    end = 28;
  } else if (tag === 0xd3 && b.length === 32 && view.getBigInt64(24) >= 0x1_0000_0000n) {
    amount = view.getBigInt64(24);
    end = 32;
  } else if (tag === 0xcf && b.length === 32 && view.getBigUint64(24) >= 0x8000_0000_0000_0000n) {
    amount = view.getBigUint64(24);
    end = 32;
  } else {
    return undefined;
  }
  if (b.length !== end) return undefined;
  return { to: b.slice(3, 23), amount };
}

/** Throws CODEC_* (malformed, non-canonical, wrong shape) or TX_INVALID_FIELD, naming `tx.body.*`. */
export function decodeTransferBody(bytes: Uint8Array): TransferBody {
  const fast = decodeTransferFast(bytes);
  if (fast !== undefined) return fast;
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 2);
  const to = readBytes(f[0]!, 'tx.body.to', ADDRESS_LENGTH);
  const amount = readAmount(f[1]!, 'tx.body.amount');
  checkTransfer(to, amount);
  return { to, amount };
}

// ---------------- validator vote ----------------

export const ValidatorVoteAction = { add: 0, remove: 1 } as const;
export type ValidatorVoteActionId = (typeof ValidatorVoteAction)[keyof typeof ValidatorVoteAction];
export type ValidatorVoteActionName = keyof typeof ValidatorVoteAction;

/** Same rule as genesis validator names (genesis/validate.ts), so a voted-in name could also stand in a genesis file. */
export const VALIDATOR_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A vote to add or remove one validator. Wire form:
 * [action (0 add, 1 remove), name, identityKey (32), blsKey (48), blsProofOfPossession]
 * The PoP is 96 bytes for add and empty for remove (one encoding per proposal: a remove
 * needs no proof, and allowing an optional one would give the same vote two encodings).
 */
export interface ValidatorVoteBody {
  readonly action: ValidatorVoteActionId;
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly blsKey: Uint8Array;
  readonly blsProofOfPossession: Uint8Array;
}

function checkValidatorVote(b: ValidatorVoteBody): void {
  const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);
  if (b.action !== 0 && b.action !== 1) throw bad('action', 'must be 0 (add) or 1 (remove)');
  if (!VALIDATOR_NAME_PATTERN.test(b.name)) throw bad('name', 'must be 1-64 letters, digits, ".", "_" or "-"');
  if (!(b.identityKey instanceof Uint8Array) || b.identityKey.length !== ED25519_PUBLIC_KEY_LENGTH) throw bad('identityKey', `must be ${ED25519_PUBLIC_KEY_LENGTH} bytes`);
  if (!(b.blsKey instanceof Uint8Array) || b.blsKey.length !== BLS_PUBLIC_KEY_LENGTH) throw bad('blsKey', `must be ${BLS_PUBLIC_KEY_LENGTH} bytes`);
  const popLength = b.action === 0 ? BLS_SIGNATURE_LENGTH : 0;
  if (!(b.blsProofOfPossession instanceof Uint8Array) || b.blsProofOfPossession.length !== popLength) {
    throw bad('blsProofOfPossession', b.action === 0 ? `must be ${BLS_SIGNATURE_LENGTH} bytes for add` : 'must be empty for remove');
  }
}

export function encodeValidatorVoteBody(body: ValidatorVoteBody): Uint8Array {
  checkValidatorVote(body);
  return encode([body.action, body.name, body.identityKey, body.blsKey, body.blsProofOfPossession]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. Key validity (curve points) and the PoP are the vm's checks. */
export function decodeValidatorVoteBody(bytes: Uint8Array): ValidatorVoteBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 5);
  const action = readUint(f[0]!, 'tx.body.action');
  const body = {
    action: action as ValidatorVoteActionId,
    name: readString(f[1]!, 'tx.body.name', 64),
    identityKey: readBytes(f[2]!, 'tx.body.identityKey'),
    blsKey: readBytes(f[3]!, 'tx.body.blsKey'),
    blsProofOfPossession: readBytes(f[4]!, 'tx.body.blsProofOfPossession'),
  };
  checkValidatorVote(body);
  return body;
}

// ---------------- evidence ----------------

/** Evidence bodies are two small signed consensus cores; anything larger is not evidence. */
export const MAX_EVIDENCE_BODY_BYTES = 2048;

// ---------------- client helpers ----------------

// Deriving the public key from a seed costs two KeyObject constructions; clients that
// sign many transactions with one key (load generators) reuse the seed array.
const publicKeyBySeed = new WeakMap<Uint8Array, Uint8Array>();

function publicKeyOf(seed: Uint8Array): Uint8Array {
  let pk = publicKeyBySeed.get(seed);
  if (pk === undefined) {
    pk = ed25519FromSeed(seed).publicKey;
    publicKeyBySeed.set(seed, pk);
  }
  return pk;
}

export interface BuildTransferArgs {
  readonly chainId: string;
  /** The sender's 32-byte Ed25519 seed. */
  readonly seed: Uint8Array;
  readonly nonce: number;
  readonly fee: bigint | number;
  readonly to: Uint8Array;
  readonly amount: bigint | number;
}

/** Builds and signs a transfer; the result's `bytes` are what `joule_sendRawTransaction` takes. */
export function buildTransfer(args: BuildTransferArgs): Tx {
  return signTx(
    {
      chainId: args.chainId,
      type: TxType.transfer,
      sender: publicKeyOf(args.seed),
      nonce: args.nonce,
      fee: BigInt(args.fee),
      body: encodeTransferBody({ to: args.to, amount: args.amount }),
    },
    args.seed,
  );
}

export interface BuildValidatorVoteArgs {
  readonly chainId: string;
  /** The voting validator's 32-byte Ed25519 identity seed (its address must be in the current set). */
  readonly seed: Uint8Array;
  readonly nonce: number;
  readonly fee: bigint | number;
  readonly action: ValidatorVoteActionName;
  /** For remove, the keys (and name) of the member to remove; the proof is then omitted. */
  readonly validator: {
    readonly name: string;
    readonly identityKey: Uint8Array;
    readonly blsKey: Uint8Array;
    readonly blsProofOfPossession?: Uint8Array;
  };
}

/** Builds and signs a validator-vote tx (core/pop.ts signProofOfPossession makes the add's proof). */
export function buildValidatorVote(args: BuildValidatorVoteArgs): Tx {
  const action = ValidatorVoteAction[args.action];
  const v = args.validator;
  const body = encodeValidatorVoteBody({
    action,
    name: v.name,
    identityKey: v.identityKey,
    blsKey: v.blsKey,
    blsProofOfPossession: action === ValidatorVoteAction.add ? (v.blsProofOfPossession ?? new Uint8Array(0)) : new Uint8Array(0),
  });
  return signTx({ chainId: args.chainId, type: TxType.validatorVote, sender: publicKeyOf(args.seed), nonce: args.nonce, fee: BigInt(args.fee), body }, args.seed);
}

export interface BuildEvidenceTxArgs {
  readonly chainId: string;
  readonly seed: Uint8Array;
  readonly nonce: number;
  readonly fee: bigint | number;
  /** consensus/evidence.ts encodeEvidence(evidence): the canonical pair. */
  readonly evidence: Uint8Array;
}

/** Builds and signs an evidence tx; any funded account may submit one. */
export function buildEvidenceTx(args: BuildEvidenceTxArgs): Tx {
  if (args.evidence.length === 0 || args.evidence.length > MAX_EVIDENCE_BODY_BYTES) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `evidence must be 1..${MAX_EVIDENCE_BODY_BYTES} bytes`, 'tx.body');
  }
  return signTx({ chainId: args.chainId, type: TxType.evidence, sender: publicKeyOf(args.seed), nonce: args.nonce, fee: BigInt(args.fee), body: args.evidence }, args.seed);
}
