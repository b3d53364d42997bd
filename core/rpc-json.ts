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
