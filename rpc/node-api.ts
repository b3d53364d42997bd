/**
 * The contract between rpc/ and node/: everything the JSON-RPC, WebSocket and health
 * endpoints need from a running node. rpc/ may import only core/, so node/ implements
 * this interface rather than rpc/ reaching into state/, vm/ or node/.
 */
import type { Block, CommitCertificate, Receipt } from '../core/block.ts';
import type { IssuedCommand } from '../core/command.ts';
import type { DeviceRecord } from '../core/device.ts';
import type { MarketRecord } from '../core/market.ts';
import type { FlexActivation, FlexBid } from '../core/flex.ts';
import type { FlexPage, FlexPageQuery, ListedFlexActivation, ListedFlexBid, ListedFlexInterval } from '../core/flex-query.ts';
import type { GovernorSet, ReversalView, SettlementRef } from '../core/reversal.ts';
import type { AccountTradesQuery, MarketTradesQuery, OrderBookPage, OrderBookQuery, TradePage } from '../core/market-query.ts';
import type { AccountAgreementsQuery, AgreementDetail, AgreementPage, AgreementQuery } from '../core/agreement-query.ts';
import type { Certificate, CertificateQuery, EnergyUtxo, EnergyUtxoPage, EnergyUtxoQuery } from '../core/energy.ts';
import type { DeviceHealth, IntervalTotals } from '../core/meter.ts';
import type { NodeRole } from '../core/roles.ts';
import type { Tx } from '../core/tx.ts';
import type { ValidatorSet } from '../core/validators.ts';

export interface StoredBlock {
  block: Block;
  hash: Uint8Array;
  /** This block's own commit certificate; null only while it is not yet known. */
  certificate: CommitCertificate | null;
}

export interface TxLookup {
  tx: Tx;
  height: number;
  index: number;
  blockHash: Uint8Array;
  receipt: Receipt;
}

export interface NodeStatus {
  chainId: string;
  genesisHash: Uint8Array;
  nodeName: string;
  role: NodeRole;
  height: number;
  latestBlockHash: Uint8Array;
  latestBlockTime: number;
  validatorCount: number;
  peerCount: number;
  mempoolSize: number;
  syncing: boolean;
  syncTarget: number | null;
}

export interface AccountView {
  nonce: number;
  /** The next nonce the node takes for a new tx of the account (TxAdmission.nextNonce); the committed nonce when the node has no pool. */
  pendingNonce?: number;
  balance: bigint;
  locked: bigint;
  roles: string[];
}

export interface ProofView {
  height: number;
  stateRoot: Uint8Array;
  value: Uint8Array | undefined;
  proof: Uint8Array;
}

/** One included piece of equivocation evidence (state/evidence-records.ts EvidenceEntry has this shape). */
export interface EvidenceView {
  /** sha256 of the evidence body. */
  id: Uint8Array;
  height: number;
  round: number;
  /** 0 PROPOSAL, 1 PREPARE, 2 COMMIT, 3 ROUND-CHANGE. */
  kind: number;
  author: Uint8Array;
  /** Height of the block that included it. */
  includedAt: number;
}

/** A pending validator-set proposal (state/validator-votes.ts ProposalRecord has this shape). */
export interface ValidatorProposalView {
  id: Uint8Array;
  /** 0 add, 1 remove. */
  action: number;
  name: string;
  identityKey: Uint8Array;
  blsKey: Uint8Array;
  /** Addresses that voted, sorted (votes of validators no longer in the set are not counted). */
  voters: readonly Uint8Array[];
}

/** Which devices to list, and from where (state/devices.ts listDevices). */
export interface DeviceQuery {
  readonly operator?: Uint8Array;
  readonly zone?: string;
  /** 1..MAX_DEVICE_PAGE. */
  readonly limit: number;
  /** List ids after this one (the previous page's cursor). */
  readonly after?: string;
}

export interface DevicePage {
  readonly devices: readonly DeviceRecord[];
  /** The id to continue after; undefined when the listing is complete. */
  readonly next: string | undefined;
}

export type { CertificateFilter, CertificateQuery, EnergyUtxoPage, EnergyUtxoQuery } from '../core/energy.ts';
export type { AccountTradesQuery, MarketTradesQuery, OrderBookPage, OrderBookQuery, TradePage } from '../core/market-query.ts';
export type { AccountAgreementsQuery, AgreementDetail, AgreementPage, AgreementQuery } from '../core/agreement-query.ts';

/** A reading the chain counted (node/chain/readings-index.ts IndexedReading has this shape). */
export interface ReadingView {
  readonly deviceId: string;
  readonly timestampUs: bigint;
  readonly netEnergyWh: bigint;
  readonly stateOfChargePercent: number;
  readonly height: number;
}

/** Which of a device's counted readings: fromUs <= timestamp <= toUs, ascending, at most `limit`. */
export interface ReadingQuery {
  readonly fromUs: bigint;
  readonly toUs: bigint;
  readonly limit: number;
}

/** Which of a device's interval totals: from <= interval start <= to (ms), ascending, at most `limit`. */
export interface IntervalQuery {
  readonly fromMs: number;
  readonly toMs: number;
  readonly limit: number;
}

/** A device's missing-data health with what RPC shows beside it. */
export interface DeviceHealthView {
  readonly device: DeviceRecord;
  readonly health: DeviceHealth;
  readonly lastReadingUs: bigint | undefined;
}

export interface CertificatePage {
  /** Each with the state key of the index entry that listed it. */
  readonly certificates: readonly { readonly certificate: Certificate; readonly indexKey: Uint8Array }[];
  readonly next: Uint8Array | undefined;
}

/** A pending governance proposal (state/governance-votes.ts GovernanceProposal has this shape). */
export interface GovernanceProposalView {
  id: Uint8Array;
  txType: number;
  body: Uint8Array;
  openedAtMs: number;
  voters: readonly Uint8Array[];
}

/**
 * The node events rpc/ (WebSocket subscriptions, and next gRPC streams) may subscribe to,
 * in the shapes rpc/ reads (node/events.ts emits supersets of them).
 */
export interface NodeApiEvents {
  /** Once per committed block, in height order. */
  'block-committed': StoredBlock;
  /** Once per tx of a committed block, after the block's event, in block order. */
  'tx-included': TxLookup;
  /** A grid command admitted by this node, at once (before consensus), once, never expired. */
  'command-issued': IssuedCommand;
}

/** What issuing a grid command answers. */
export interface IssuedCommandView {
  readonly command: IssuedCommand;
  /** The command-anchor tx, admitted to the mempool: the anchor once included. */
  readonly txHash: Uint8Array;
}

/** What became of one device reading at this node (the acknowledgement a device may subscribe to). */
export type ReadingOutcome = 'accepted' | 'rejected' | 'batched' | 'final';

/**
 * One reading's acknowledgement. Ingress (rpc/grpc device stream, node/ingress) produces
 * them: `accepted` (verified, waiting for a batch), `rejected` (dropped, with `reason`, a
 * JouleError code), `batched` (in telemetry-batch `txHash`), `final` (that tx in block `height`;
 * with `reason` when the reading did not count: the batch failed, or skipped its device).
 */
export interface ReadingAck {
  readonly deviceId: string;
  readonly timestampUs: bigint;
  readonly outcome: ReadingOutcome;
  readonly reason?: string;
  readonly txHash?: Uint8Array;
  readonly height?: number;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Reads take the request's `signal`, aborted once its client is gone: an implementation
 * checks it before work worth saving (`signal?.throwIfAborted()`), and the dispatcher
 * answers nobody. Every read costs what its answer holds, never the size of the block or
 * chain around it.
 */
export interface NodeApi {
  status(): NodeStatus;
  getBlockByHeight(height: number, signal?: AbortSignal): Promise<StoredBlock | undefined>;
  getBlockByHash(hash: Uint8Array, signal?: AbortSignal): Promise<StoredBlock | undefined>;
  /** One tx with its receipt, read without decoding the rest of its block. */
  getTransaction(hash: Uint8Array, signal?: AbortSignal): Promise<TxLookup | undefined>;
  /** The receipts of block `height` in tx order, in one read (`joule_getBlock(h, true)` pairs them with the block's txs). */
  getBlockReceipts(height: number, signal?: AbortSignal): Promise<readonly Receipt[] | undefined>;
  getAccount(address: Uint8Array): AccountView;
  /** Admits the tx to the mempool; throws JouleError on rejection. */
  submitTransaction(bytes: Uint8Array): Promise<{ hash: Uint8Array }>;
  /** Throws JouleError NOT_FOUND for a height the node does not have. */
  getProof(key: Uint8Array, height?: number, signal?: AbortSignal): Promise<ProofView>;
  /** Decodes the type-specific body through the vm's type registry. */
  describeTx(tx: Tx): { typeName: string; body: Record<string, unknown> };
  /**
   * Subscribes to a node event; the listener runs synchronously in the commit path (it must
   * be quick; an exception is logged and isolated). Returns unsubscribe. Throws
   * RATE_LIMITED beyond the node's bound on listeners.
   */
  on<K extends keyof NodeApiEvents>(type: K, listener: (event: NodeApiEvents[K]) => void): () => void;

  // ---- Consensus issue (optional: a node without them answers UNAVAILABLE) ----

  /**
   * The validator set that proposes and certifies block `height`. Omitted: the current
   * set (in the latest state; it certifies block latest+1). undefined for a height the
   * node does not know.
   */
  getValidators?(height?: number): MaybePromise<ValidatorSet | undefined>;
  /** Included evidence in inclusion order: state/evidence-records.ts listEvidenceRecords(latestState, offset, limit). */
  listEvidence?(offset: number, limit: number): MaybePromise<{ total: number; items: readonly EvidenceView[] }>;
  /** Pending validator-set proposals: state/validator-votes.ts listProposals(latestState). */
  listValidatorProposals?(): MaybePromise<readonly ValidatorProposalView[]>;

  // ---- Energy ledger (optional, like the above) ----

  /** A registered device in the latest state, with its key history. */
  getDevice?(id: string): MaybePromise<DeviceRecord | undefined>;
  /** One bounded page of devices by id, all or of one operator and/or zone. */
  listDevices?(query: DeviceQuery): MaybePromise<DevicePage>;
  /** Pending governance proposals (role votes, device changes by validators) in the latest state. */
  listGovernanceProposals?(): MaybePromise<readonly GovernanceProposalView[]>;
  /** A device's counted readings (an index of committed blocks, not state). */
  getReadings?(deviceId: string, query: ReadingQuery, signal?: AbortSignal): Promise<readonly ReadingView[]>;
  /** A device's interval totals kept in the latest state, and the chain's interval length. */
  getIntervalTotals?(
    deviceId: string,
    query: IntervalQuery,
    signal?: AbortSignal,
  ): MaybePromise<{ intervals: readonly IntervalTotals[]; settlementIntervalMs: number }>;
  /** A device's health in the latest state; undefined for an unknown device. */
  getDeviceHealth?(deviceId: string): MaybePromise<DeviceHealthView | undefined>;
  /** An unspent energy UTXO in the latest state. */
  getEnergyUtxo?(id: Uint8Array): MaybePromise<EnergyUtxo | undefined>;
  /** One bounded page of unspent energy UTXOs by id, all or of one owner. */
  listEnergyUtxos?(query: EnergyUtxoQuery): MaybePromise<EnergyUtxoPage>;
  getCertificate?(id: Uint8Array): MaybePromise<Certificate | undefined>;
  /** One bounded page of certificates, all or by beneficiary, device, zone or period. */
  listCertificates?(query: CertificateQuery): MaybePromise<CertificatePage>;

  // ---- Markets (optional, like the above) ----

  /** A market's record (its counts before gate closure, its clearing result after) in the latest state. */
  getMarket?(zone: string, intervalStartMs: number): MaybePromise<MarketRecord | undefined>;
  /** One bounded page of a market's open orders of one side, best first, with the market. */
  listOrders?(query: OrderBookQuery): MaybePromise<OrderBookPage>;
  /** One bounded page of a market's trades in trade order, with the market. */
  listMarketTrades?(query: MarketTradesQuery): MaybePromise<TradePage & { readonly market: MarketRecord | undefined }>;
  /** One bounded page of an account's trades (as buyer or seller) with their settlements. */
  listAccountTrades?(query: AccountTradesQuery): MaybePromise<TradePage>;

  // ---- Device ingress (optional, like the above) ----

  /**
   * Issues the grid command a dso's signed command-anchor tx carries (node/commands/): refused
   * when expired (COMMAND_EXPIRED) or by the tx's rules (TX_UNAUTHORIZED for a target the
   * sender does not operate); announced ('command-issued') the moment it is admitted.
   */
  issueCommand?(bytes: Uint8Array): Promise<IssuedCommandView>;
  /**
   * Subscribes to reading acknowledgements (produced by device ingress); the listener runs
   * synchronously and must be quick. Returns unsubscribe.
   */
  onReadingAck?(listener: (ack: ReadingAck) => void): () => void;

  // ---- Bilateral agreements (optional, like the above) ----

  /** An agreement in the latest state with its dispute and the settlements of slots fromSlot.. (at most `limit`). */
  getAgreement?(query: AgreementQuery): MaybePromise<AgreementDetail | undefined>;
  /** One bounded page of an account's agreements (as buyer or seller) by id. */
  listAccountAgreements?(query: AccountAgreementsQuery): MaybePromise<AgreementPage>;
  // ---- Flexibility (optional, like the above) ----

  getFlexBid?(id: Uint8Array): MaybePromise<FlexBid | undefined>;
  getFlexActivation?(id: Uint8Array): MaybePromise<FlexActivation | undefined>;
  /** One bounded page of an aggregator's flexibility bids, by id. */
  listFlexBids?(aggregator: Uint8Array, query: FlexPageQuery): MaybePromise<FlexPage<ListedFlexBid>>;
  /** One bounded page of a bid's activations, by window start. */
  listFlexActivations?(bidId: Uint8Array, query: FlexPageQuery): MaybePromise<FlexPage<ListedFlexActivation>>;
  /** One bounded page of an activation's settled intervals. */
  listFlexIntervals?(activationId: Uint8Array, query: FlexPageQuery): MaybePromise<FlexPage<ListedFlexInterval>>;
  // ---- Governed reversals (optional, like the above) ----

  /** A reversal by id, or the reversal of one trade's settlement, in the latest state. */
  getReversal?(by: number | SettlementRef): MaybePromise<ReversalView | undefined>;
  /** The governors genesis named and k, with their state key; undefined on a chain without them. */
  getGovernors?(): MaybePromise<(GovernorSet & { readonly key: Uint8Array }) | undefined>;
}

/**
 * What `/health` reports. `ok` false means the node is down or stalled (no new block for
 * too long while it should produce or follow), answered with HTTP 503 so load balancers
 * and orchestrators route around it. Any other fields are echoed as diagnostics.
 */
export interface HealthReport {
  ok: boolean;
  [detail: string]: unknown;
}
export type HealthCheck = () => HealthReport | Promise<HealthReport>;

/** The subset of a pino logger rpc/ uses, so tests can pass a stub and node/ a pino child. */
export interface RpcLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
