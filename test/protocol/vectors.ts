import { contextOpenOrders, type OpenOrderContext } from './market-vectors.ts';
import { contextAgreements, type AgreementContext } from './agreement-vectors.ts';
import { contextFlexActivations, contextFlexBids, type FlexActivationContext, type FlexBidContext } from './flex-vectors.ts';
import { contextReversals, type ReversalContext } from './reversal-vectors.ts';
import { commandHashVectors } from './command-vectors.ts';
import { formatAddress } from '../../core/keys.ts';
import { Domain } from '../../core/domain.ts';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { TxType } from '../../core/tx/types.ts';
import { contextDevices, deviceKeyVectors, type DeviceContext, type DeviceKeyVector } from './device-vectors.ts';
import {
  CONTEXT_BLOCK,
  contextFrozenIntervals,
  telemetrySigningVectors,
  type FrozenIntervalContext,
  type TelemetrySigningVector,
} from './telemetry-vectors.ts';
import { contextEnergyUtxos, energyHashVectors, type EnergyUtxoContext } from './energy-vectors.ts';
import { encodingVectors, rejectedEncodingVectors, type EncodingVector, type RejectedEncodingVector } from './encoding-vectors.ts';
import type { InvalidTxVector } from './invalid-tx-builder.ts';
import { invalidTxVectors } from './invalid-txs.ts';
import {
  blockVectors,
  hashVectors,
  merkleVectors,
  signingVectors,
  type CertificateVector,
  type HashVector,
  type HeaderVector,
  type MerkleVector,
  type SigningVector,
} from './signing-vectors.ts';
import { unhex } from './notation.ts';
import { validTxVectors, type ValidTxVector } from './valid-txs.ts';
import { KEYS, keyVector, VALIDATOR_KEYS, VECTOR_CHAIN_ID, type KeyVector } from './vector-keys.ts';

/**
 * docs/protocol-vectors.json: the test vectors of docs/protocol.md, built from fixed seeds
 * by the code itself. `npm run vectors` writes the file; test/protocol/ rebuilds it in
 * memory and fails if the file differs, so neither can drift from the code.
 */
export const VECTORS_FILE = 'docs/protocol-vectors.json';

/** The chain the `validateTx` vectors are checked against (what a node of it would hold). */
export interface VectorContext {
  chainId: string;
  params: { minFee: string; maxTxBytes: number; tierBaseFees: Record<string, string> };
  /** Accounts at nonce 0 with these balances and roles (genesis names); every other account is empty. */
  accounts: { key: string; address: string; balance: string; roles: string[] }[];
  /** Registered devices (keys by name, in `deviceKeys` and `keys`). */
  devices: DeviceContext[];
  /** Unspent energy UTXOs (owners by key name). */
  energyUtxos: EnergyUtxoContext[];
  /** The current validator set (names of `keys`), no pending votes, no evidence yet. */
  validators: string[];
  /** The block transactions are checked for: its height (device keys) and time, ms (reading skew, settled intervals). */
  block: { height: number; timestampMs: number };
  /** Intervals frozen by a check-meter disagreement, with their frozen UTXO, awaiting resolution. */
  frozenIntervals: FrozenIntervalContext[];
  /** Open orders of the markets (owners by key name); each owner's account has their `locked` locked besides its balance. */
  openOrders: OpenOrderContext[];
  /** Bilateral agreements of alice and bob, one per phase the agreement vectors need: their state records (no collateral posted). */
  agreements: AgreementContext[];
  /** Flexibility bids (aggregators by key name). */
  flexBids: FlexBidContext[];
  /** Flexibility activations (dso and aggregator by key name); each dso's account has their `escrow` locked besides its balance. */
  flexActivations: FlexActivationContext[];
  /** Governors and k, a market's settled trades (parties by key name), and the reversals proposed of them. */
  reversals: ReversalContext;
}

export interface ProtocolVectors {
  about: string[];
  domains: Record<string, string>;
  txTypes: Record<string, number>;
  keys: KeyVector[];
  deviceKeys: DeviceKeyVector[];
  context: VectorContext;
  /** Readings' fixed-layout signing bytes (not the canonical encoding) and their device signatures. */
  telemetry: TelemetrySigningVector[];
  encoding: { valid: EncodingVector[]; rejected: RejectedEncodingVector[] };
  transactions: { valid: ValidTxVector[]; invalid: InvalidTxVector[] };
  signing: SigningVector[];
  headers: HeaderVector[];
  certificates: CertificateVector[];
  hashes: HashVector[];
  merkleRoots: MerkleVector[];
}

const ABOUT = [
  'Test vectors of docs/protocol.md, written by `npm run vectors` (test/protocol/write-vectors.ts); do not edit by hand.',
  'test/protocol/ checks them against the code on every `npm test`: each valid vector decodes, re-encodes byte for byte and verifies; each invalid one is refused with its error; the file equals a fresh build.',
  'Byte strings are 0x-prefixed lowercase hex; amounts and fees are decimal strings; `value` fields use the notation {"int": "42"}, {"bytes": "0x.."}, {"str": ".."}, {"bool": true}, {"nil": null}, {"array": [..]}.',
  'Keys are derived from labels (Ed25519 seed = sha256("joule-protocol-vectors/ed25519/<name>"), BLS secret = sha256("joule-protocol-vectors/bls/<name>") with its first byte set to 0x11); use them for nothing else.',
];

function context(): VectorContext {
  const funded = [
    { key: KEYS.alice, balance: 2n ** 64n - 1n, roles: [] },
    { key: KEYS.north, balance: 1_000_000n, roles: ['validator', 'dso'] },
    { key: KEYS.aggregator, balance: 1_000_000n, roles: ['aggregator'] },
    { key: KEYS.bob, balance: 1_000_000n, roles: [] },
    { key: KEYS.oracle, balance: 1_000_000n, roles: ['oracle'] },
    { key: KEYS.issuer, balance: 1_000_000n, roles: ['issuer'] },
  ];
  return {
    chainId: VECTOR_CHAIN_ID,
    params: {
      minFee: DEFAULT_PARAMS.minFee.toString(),
      maxTxBytes: DEFAULT_PARAMS.maxTxBytes,
      tierBaseFees: Object.fromEntries(DEFAULT_PARAMS.tiers.map((t) => [t.name, t.baseFee.toString()])),
    },
    accounts: funded.map(({ key, balance, roles }) => ({ key: key.name, address: formatAddress(key.address), balance: balance.toString(), roles })),
    validators: VALIDATOR_KEYS.map((k) => k.name),
    devices: contextDevices(),
    block: { ...CONTEXT_BLOCK },
    frozenIntervals: contextFrozenIntervals(),
    energyUtxos: contextEnergyUtxos(),
    openOrders: contextOpenOrders(),
    agreements: contextAgreements(),
    flexBids: contextFlexBids(),
    flexActivations: contextFlexActivations(),
    reversals: contextReversals(),
  };
}

function txHashOf(valid: readonly ValidTxVector[], name: string): Uint8Array {
  return unhex(valid.find((v) => v.name === name)!.txHash);
}

export function buildProtocolVectors(): ProtocolVectors {
  const valid = validTxVectors();
  const transfers = valid.filter((v) => v.typeName === 'transfer').map((v) => v.encodedTx);
  const blocks = blockVectors(transfers.slice(0, 3));
  return {
    about: ABOUT,
    domains: { ...Domain },
    txTypes: { ...TxType },
    keys: Object.values(KEYS).map(keyVector),
    deviceKeys: deviceKeyVectors(),
    context: context(),
    telemetry: telemetrySigningVectors(),
    encoding: { valid: encodingVectors(), rejected: rejectedEncodingVectors() },
    transactions: { valid, invalid: invalidTxVectors() },
    signing: signingVectors(blocks.digest, transfers[0]!),
    headers: blocks.headers,
    certificates: blocks.certificates,
    hashes: [...hashVectors(), ...energyHashVectors(txHashOf(valid, 'energy-transfer'), txHashOf(valid, 'energy-retire')), ...commandHashVectors()],
    merkleRoots: merkleVectors(transfers),
  };
}

/** The file's exact text: two-space JSON and a final newline. */
export function vectorsText(v: ProtocolVectors = buildProtocolVectors()): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}
