import type { NodeRole } from './roles.ts';

/**
 * The JSON shapes of the JSON-RPC API (docs/json-rpc.md): one definition for the server
 * (rpc/jsonrpc/ formats node data into them) and its clients (the CLI), so the two cannot
 * drift apart. Conventions: bytes are 0x lowercase hex, addresses bech32, amounts decimal
 * strings (they exceed 2^53), heights, nonces, indexes and ms timestamps JSON numbers.
 */

export interface CertificateJson {
  height: number;
  round: number;
  blockHash: string;
  aggregateSignature: string;
  signers: string;
  signerIndexes: number[];
}

export interface ReceiptJson {
  success: boolean;
  code: string;
  feePaid: string;
  events: { type: string; attributes: Record<string, string> }[];
}

export interface TransactionJson {
  hash: string;
  chainId: string;
  type: number;
  typeName: string;
  from: string;
  sender: string;
  nonce: number;
  fee: string;
  body: unknown;
  signature: string;
  blockHeight: number;
  blockHash: string;
  index: number;
  receipt: ReceiptJson;
}

export interface BlockJson {
  hash: string;
  height: number;
  /** Round the block was built in (its proposer is the scheduled proposer of that round). */
  round: number;
  parentHash: string;
  timestamp: number;
  proposer: string;
  txRoot: string;
  stateRoot: string;
  receiptsRoot: string;
  validatorSetHash: string;
  txCount: number;
  parentCertificate: CertificateJson | null;
  certificate: CertificateJson | null;
  transactions: string[] | TransactionJson[];
}

export interface AccountJson {
  address: string;
  nonce: number;
  /** The next nonce the node takes for a new tx: past the account's pending txs (and the node's own batches, for its aggregator account). */
  pendingNonce: number;
  balance: string;
  locked: string;
  roles: string[];
}

export interface ProofJson {
  key: string;
  height: number;
  stateRoot: string;
  value: string | null;
  proof: string;
}

export interface StatusJson {
  chainId: string;
  genesisHash: string;
  nodeName: string;
  role: NodeRole;
  height: number;
  latestBlockHash: string;
  latestBlockTime: number;
  validatorCount: number;
  peerCount: number;
  mempoolSize: number;
  syncing: boolean;
  syncTarget: number | null;
}

export interface ValidatorJson {
  index: number;
  name: string;
  address: string;
  identityKey: string;
  blsKey: string;
}

export interface ValidatorsJson {
  /** The block this set proposes and certifies. */
  height: number;
  hash: string;
  quorum: number;
  validators: ValidatorJson[];
}

export interface EvidenceJson {
  id: string;
  author: string;
  height: number;
  round: number;
  kind: string;
  includedAt: number;
}

export interface ValidatorProposalJson {
  id: string;
  action: 'add' | 'remove';
  name: string;
  address: string;
  identityKey: string;
  blsKey: string;
  voters: string[];
  /** Votes of current validators, and how many a change needs (floor(n/2)+1); null without the current set. */
  votes: number | null;
  needed: number | null;
}

// ---- the energy ledger: devices and roles (docs/json-rpc.md Devices, Roles) ----

export interface DeviceKeyJson {
  /** The BLS public key, 48 bytes. */
  key: string;
  /** Valid for readings in blocks from this height on (until the next entry's). */
  fromHeight: number;
}

export interface DeviceJson {
  id: string;
  /** The current key (the last of keyHistory). */
  publicKey: string;
  owner: string;
  operator: string;
  kind: string;
  zone: string;
  maxImportW: number;
  maxExportW: number;
  /** g CO2e/kWh. */
  carbonIntensity: number;
  checkMeter: string | null;
  status: string;
  keyHistory: DeviceKeyJson[];
  /** The record's state key: `joule_getProof` / `joule query proof` prove it. */
  stateKey: string;
}

export interface DeviceListJson {
  devices: DeviceJson[];
  /** Pass as `cursor` for the next page; null when there is none. */
  nextCursor: string | null;
}

export interface RoleProposalJson {
  id: string;
  action: 'grant' | 'revoke';
  role: string;
  voters: string[];
  /** Votes of current validators and how many apply it (floor(n/2)+1); null without the current set. */
  votes: number | null;
  needed: number | null;
  /** Block time (ms) of the first vote; a proposal expires 7 days later. */
  openedAt: number;
}

export interface RolesJson {
  address: string;
  roles: string[];
  /** Open role-vote proposals about this address. */
  pending: RoleProposalJson[];
}

// ---- the energy ledger: telemetry (docs/json-rpc.md Telemetry) ----

/** A reading the chain counted (int64 fields as decimal strings). */
export interface ReadingJson {
  deviceId: string;
  timestampUs: string;
  netEnergyWh: string;
  stateOfChargePercent: number;
  /** The block that counted it. */
  height: number;
}

export interface ReadingListJson {
  device: string;
  readings: ReadingJson[];
  /** Pass as `fromUs` for the next page (the last timestamp + 1); null when the range is exhausted. */
  nextFromUs: string | null;
}

export interface CheckTotalsJson {
  deviceId: string;
  readings: number;
  importWh: string;
  exportWh: string;
}

/** One device's metered totals for one settlement interval. */
export interface IntervalTotalsJson {
  deviceId: string;
  intervalStartMs: number;
  intervalEndMs: number;
  readings: number;
  /** Gross import and export (Wh), and their difference (+ import, - export). */
  importWh: string;
  exportWh: string;
  netEnergyWh: string;
  /** open | closed | frozen | resolved */
  status: string;
  /** Wh minted at close (for a resolved interval: the accepted value); null while open or for a check meter. */
  mintedWh: string | null;
  /** The minted energy UTXO's id. */
  utxo: string | null;
  /** The check meter's totals for the interval, when it reported it too. */
  checkMeter: CheckTotalsJson | null;
  /** The record's state key: `joule_getProof` / `joule query proof` prove it. */
  stateKey: string;
}

export interface IntervalTotalsListJson {
  device: string;
  intervals: IntervalTotalsJson[];
  /** Pass as `from` for the next page; null when the range is exhausted. */
  nextFrom: number | null;
}

export interface IntervalEnergyJson {
  intervalStartMs: number;
  importWh: string;
  exportWh: string;
}

/** Missing data and dispatch (docs/json-rpc.md joule_getDeviceHealth). */
export interface DeviceHealthJson {
  device: string;
  /** The device's status (active, suspended, revoked, flagged-for-inspection). */
  status: string;
  /** Active: counted on for dispatch (with the estimate while readings are missing). */
  inDispatch: boolean;
  flaggedForInspection: boolean;
  /** Consecutive settled intervals without readings. */
  missedIntervals: number;
  lastReportedMs: number | null;
  /** The device's last reading counted on chain, µs. */
  lastReadingUs: string | null;
  lastVerified: IntervalEnergyJson | null;
  /** The de-rated estimate that stands in for missing data (never minted). */
  estimate: IntervalEnergyJson | null;
  /** The interval at whose close missing data flagged the device. */
  flaggedAtMs: number | null;
  stateKey: string;
}

// ---- the energy ledger: energy UTXOs and certificates (docs/json-rpc.md Energy) ----

export interface ProvenanceJson {
  deviceId: string;
  kind: string;
  zone: string;
  /** The settlement interval [start, end), ms since the Unix epoch. */
  intervalStartMs: number;
  intervalEndMs: number;
  /** g CO2e/kWh. */
  carbonIntensity: number;
}

export interface EnergyUtxoJson {
  id: string;
  owner: string;
  /** Integer Wh, a decimal string. */
  wh: string;
  provenance: ProvenanceJson;
  /** Held by a check-meter disagreement: it cannot move until a dso resolves it. */
  frozen: boolean;
  /** The block that created it. */
  height: number;
  /** The record's state key: `joule_getProof` / `joule query proof` prove it. */
  stateKey: string;
}

export interface EnergyUtxoListJson {
  utxos: EnergyUtxoJson[];
  /** Pass as `cursor` for the next page; null when there is none. */
  nextCursor: string | null;
}

export interface EnergyCertificateJson {
  id: string;
  beneficiary: string;
  purpose: string;
  wh: string;
  provenance: ProvenanceJson;
  /** Height and block time (ms) of the retirement. */
  height: number;
  time: number;
  stateKey: string;
}

export interface EnergyCertificateListJson {
  /** Each with the key of the index entry that listed it (provable like the record). */
  certificates: (EnergyCertificateJson & { indexKey: string })[];
  nextCursor: string | null;
}
