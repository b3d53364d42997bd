/**
 * Typed errors: every rejection carries a stable code (for clients, metrics and RPC
 * `error.data`) and a message that names the offending field.
 */
export const ErrorCode = {
  // encoding
  CODEC_MALFORMED: 'CODEC_MALFORMED',
  CODEC_NON_CANONICAL: 'CODEC_NON_CANONICAL',
  CODEC_WRONG_TYPE: 'CODEC_WRONG_TYPE',
  // keys, addresses, keystores
  KEY_INVALID: 'KEY_INVALID',
  ADDRESS_INVALID: 'ADDRESS_INVALID',
  KEYSTORE_INVALID: 'KEYSTORE_INVALID',
  KEYSTORE_BAD_PASSPHRASE: 'KEYSTORE_BAD_PASSPHRASE',
  /** A secret key file other users of the machine can read. */
  KEYSTORE_EXPOSED: 'KEYSTORE_EXPOSED',
  // transactions
  TX_OVERSIZE: 'TX_OVERSIZE',
  TX_UNKNOWN_TYPE: 'TX_UNKNOWN_TYPE',
  TX_WRONG_CHAIN: 'TX_WRONG_CHAIN',
  TX_BAD_SIGNATURE: 'TX_BAD_SIGNATURE',
  TX_NONCE_TOO_LOW: 'TX_NONCE_TOO_LOW',
  TX_NONCE_TOO_HIGH: 'TX_NONCE_TOO_HIGH',
  TX_INSUFFICIENT_BALANCE: 'TX_INSUFFICIENT_BALANCE',
  TX_FEE_TOO_LOW: 'TX_FEE_TOO_LOW',
  TX_INVALID_FIELD: 'TX_INVALID_FIELD',
  TX_UNAUTHORIZED: 'TX_UNAUTHORIZED',
  // devices (energy ledger)
  /** No device is registered under the id. */
  DEVICE_UNKNOWN: 'DEVICE_UNKNOWN',
  /** A device with the id exists (ids are never reused, a revoked device's included). */
  DEVICE_EXISTS: 'DEVICE_EXISTS',
  /** The device's status forbids this: suspended, flagged for inspection, or revoked (final). */
  DEVICE_INACTIVE: 'DEVICE_INACTIVE',
  // telemetry (energy ledger)
  /** A reading's timestamp is not after its device's previous one (in the batch or on chain): a replay, or out of order. */
  TELEMETRY_OUT_OF_ORDER: 'TELEMETRY_OUT_OF_ORDER',
  /** A reading's timestamp is further from the block's time than maxReadingSkewMs. */
  TELEMETRY_SKEW: 'TELEMETRY_SKEW',
  /** A reading falls in an interval that is already settled (closed at its end plus settlementDelayMs). */
  TELEMETRY_SETTLED: 'TELEMETRY_SETTLED',
  /** A reading's device key at the batch's key height is no longer its key at the inclusion height (re-keyed since). */
  TELEMETRY_KEY_ROTATED: 'TELEMETRY_KEY_ROTATED',
  /**
   * A reading's energy exceeds what its device's power limits allow over the time since its
   * previous reading: the batch skips the device (none of its readings in the batch count;
   * event telemetry-skipped) and flags it for inspection. At the ingress, a reading refused.
   */
  TELEMETRY_IMPOSSIBLE_ENERGY: 'TELEMETRY_IMPOSSIBLE_ENERGY',
  /** A device stream kept sending readings that had to be dropped; the node cut it off (gRPC PERMISSION_DENIED). */
  DEVICE_MISBEHAVING: 'DEVICE_MISBEHAVING',
  /** The device is operated by another account than this node's aggregator: it streams to a node of its operator (gRPC FAILED_PRECONDITION). */
  DEVICE_NOT_SERVED: 'DEVICE_NOT_SERVED',
  /**
   * A device stream had no reading verified under its device's key within the node's
   * deadline (grpc.proveStreamWithinMs): naming a device proves nothing, so such a stream is
   * closed (gRPC UNAUTHENTICATED) and never receives the device's grid commands.
   */
  DEVICE_UNPROVEN: 'DEVICE_UNPROVEN',
  /** A check-meter resolution names an interval that is not frozen (never was, or already resolved). */
  INTERVAL_NOT_FROZEN: 'INTERVAL_NOT_FROZEN',
  // grid commands (device ingress)
  /** A grid command whose validity window has ended: never issued nor delivered; an anchor too long after its window is refused. */
  COMMAND_EXPIRED: 'COMMAND_EXPIRED',
  /** The same command (same hash) is already anchored on chain. */
  COMMAND_DUPLICATE: 'COMMAND_DUPLICATE',
  // energy tokens (energy ledger)
  /** No unspent energy UTXO has the id: it never existed, was spent, or was retired. */
  ENERGY_UTXO_UNKNOWN: 'ENERGY_UTXO_UNKNOWN',
  /** The UTXO is frozen by a check-meter disagreement until a dso resolves it. */
  ENERGY_UTXO_FROZEN: 'ENERGY_UTXO_FROZEN',
  /** Inputs of different provenance would merge into one output (or one certificate). */
  ENERGY_PROVENANCE_MIXED: 'ENERGY_PROVENANCE_MIXED',
  /** Outputs (or the retired amount) do not add up to the inputs' Wh exactly. */
  ENERGY_NOT_CONSERVED: 'ENERGY_NOT_CONSERVED',
  // markets
  /** The order's market is past its gate closure (interval start minus gateClosureLeadMs): it takes no more orders or cancellations. */
  MARKET_CLOSED: 'MARKET_CLOSED',
  /** The account holds open orders on the other side of this market (one side per account per market). */
  MARKET_SIDE_TAKEN: 'MARKET_SIDE_TAKEN',
  /** No open order has the id (never placed, cancelled, or its market cleared). */
  MARKET_ORDER_UNKNOWN: 'MARKET_ORDER_UNKNOWN',
  /** An ask's volume (with the device's other asks in the market) exceeds what the device's export limit allows over the interval. */
  MARKET_DEVICE_LIMIT: 'MARKET_DEVICE_LIMIT',
  // mempool
  MEMPOOL_FULL: 'MEMPOOL_FULL',
  MEMPOOL_DUPLICATE: 'MEMPOOL_DUPLICATE',
  MEMPOOL_UNDERPRICED: 'MEMPOOL_UNDERPRICED',
  MEMPOOL_SENDER_LIMIT: 'MEMPOOL_SENDER_LIMIT',
  /** The nonce is held by a tx the node sends itself from the same account (its aggregator's telemetry batch): take the account's pendingNonce. */
  MEMPOOL_NONCE_TAKEN: 'MEMPOOL_NONCE_TAKEN',
  /** Too many pending transactions speak for one device (the node's mempool.maxPerDevice). */
  MEMPOOL_DEVICE_LIMIT: 'MEMPOOL_DEVICE_LIMIT',
  /** The sender's balance does not cover its pending txs and this one together (fees and amounts). */
  MEMPOOL_INSUFFICIENT_FUNDS: 'MEMPOOL_INSUFFICIENT_FUNDS',
  // blocks and certificates
  BLOCK_INVALID: 'BLOCK_INVALID',
  CERT_INVALID: 'CERT_INVALID',
  // consensus messages
  CONSENSUS_INVALID_MESSAGE: 'CONSENSUS_INVALID_MESSAGE',
  CONSENSUS_NOT_VALIDATOR: 'CONSENSUS_NOT_VALIDATOR',
  WAL_CORRUPT: 'WAL_CORRUPT',
  WAL_CONFLICT: 'WAL_CONFLICT',
  /** Two conflicting commit certificates exist: more than f validators are faulty. The node halts. */
  SAFETY_VIOLATION: 'SAFETY_VIOLATION',
  /**
   * An end-of-block hook threw: this node cannot compute the block, and others may compute
   * it differently. Never a verdict on the block or its sender: the node halts (vm/README.md).
   */
  HOOK_FAILED: 'HOOK_FAILED',
  /**
   * A block read state its access list did not declare (strict mode), or listed a prefix
   * that was not loaded: a handler's or hook's declaration is wrong, this node's bug, never
   * the block's. The node halts (state/README.md "Reads").
   */
  STATE_UNDECLARED_READ: 'STATE_UNDECLARED_READ',
  // genesis, config, storage
  GENESIS_INVALID: 'GENESIS_INVALID',
  /** A validator card of the genesis ceremony (node/home/card.ts) is malformed or does not verify. */
  CARD_INVALID: 'CARD_INVALID',
  CONFIG_INVALID: 'CONFIG_INVALID',
  STORE_CORRUPT: 'STORE_CORRUPT',
  STORE_MISMATCH: 'STORE_MISMATCH',
  /** A proof was asked for a height older than the node's state history window (state.historyBlocks). */
  STATE_PRUNED: 'STATE_PRUNED',
  /**
   * This node's disk refused a read or write (full, read-only, no permission, I/O error):
   * never a verdict on a block or its sender. The node halts with the path and the OS error
   * (core/storage-error.ts, docs/running-a-validator.md "Disk faults").
   */
  STORAGE_FAILED: 'STORAGE_FAILED',
  // queries and rpc
  NOT_FOUND: 'NOT_FOUND',
  INVALID_PARAMS: 'INVALID_PARAMS',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAVAILABLE: 'UNAVAILABLE',
  /** The client went away (or the server is closing): its request was stopped, nobody gets the answer. */
  REQUEST_CANCELLED: 'REQUEST_CANCELLED',
  /** A batch's answers passed the server's byte budget; the requests after that point were not run. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** A batch with more requests, or more costly ones, than the server runs in one go; nothing of it was run. */
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  // rpc transport (HTTP status in parentheses)
  /** A request body over the size limit (413). */
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  /** A request body that did not arrive in time (408). */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** A POST that is not `Content-Type: application/json` (415). */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** A browser request from an origin not in `rpc.corsOrigins` (403). */
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  /** A `Host` header not in `rpc.hosts`, as a DNS-rebinding page would send (403). */
  HOST_NOT_ALLOWED: 'HOST_NOT_ALLOWED',
  /** The server is at its connection or in-flight body limit (503, or a dropped connection). */
  SERVER_BUSY: 'SERVER_BUSY',
  /** A WebSocket client that fell too far behind reading its messages; it was disconnected (close code 1013). */
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  // bilateral agreements
  /** No agreement has the id. */
  AGREEMENT_UNKNOWN: 'AGREEMENT_UNKNOWN',
  /** The sender is not the party (buyer, seller, counterparty) the step needs. */
  AGREEMENT_NOT_PARTY: 'AGREEMENT_NOT_PARTY',
  /** The agreement is not in a phase (or time window) that allows the step. */
  AGREEMENT_PHASE: 'AGREEMENT_PHASE',
  /** The agreement has an open dispute, or had one (one per agreement), or the validator already voted on it. */
  AGREEMENT_DISPUTED: 'AGREEMENT_DISPUTED',
  // flexibility
  /** No flexibility bid has the id. */
  FLEX_BID_UNKNOWN: 'FLEX_BID_UNKNOWN',
  /** No flexibility activation has the id. */
  FLEX_ACTIVATION_UNKNOWN: 'FLEX_ACTIVATION_UNKNOWN',
  /** A bid's capacity beyond what its fleet's power limits allow, or an activation's power beyond the bid's capacity. */
  FLEX_CAPACITY: 'FLEX_CAPACITY',
  /** An activation's window outside the bid's availability, overlapping an earlier activation of the bid, or already begun. */
  FLEX_WINDOW: 'FLEX_WINDOW',
  /** A confirmation later than 30 s after the activating block's time: refused, and the activation lapses. */
  FLEX_CONFIRM_LATE: 'FLEX_CONFIRM_LATE',
  /** The activation is not waiting for a confirmation (already confirmed, lapsed or settled). */
  FLEX_NOT_PENDING: 'FLEX_NOT_PENDING',
  // governed reversals of market settlements
  /** The sender is not one of the governors genesis names (or the chain names none). */
  REVERSAL_NOT_GOVERNOR: 'REVERSAL_NOT_GOVERNOR',
  /** The trade named has no settlement (no such trade, or it has not settled yet). */
  REVERSAL_UNKNOWN_SETTLEMENT: 'REVERSAL_UNKNOWN_SETTLEMENT',
  /** A reversal of this settlement is already proposed and waiting for approvals. */
  REVERSAL_ALREADY_PROPOSED: 'REVERSAL_ALREADY_PROPOSED',
  /** This settlement was already reversed: a settlement is reversed at most once. */
  REVERSAL_ALREADY_REVERSED: 'REVERSAL_ALREADY_REVERSED',
  /** No reversal of this settlement is proposed. */
  REVERSAL_UNKNOWN: 'REVERSAL_UNKNOWN',
  /** This governor already approved (or proposed) this reversal. */
  REVERSAL_ALREADY_APPROVED: 'REVERSAL_ALREADY_APPROVED',
  /** Money the settlement moved is no longer in its recipient's balance: the reversal fails whole. */
  REVERSAL_FUNDS_GONE: 'REVERSAL_FUNDS_GONE',
  /** The energy the settlement delivered is no longer the buyer's, whole and unfrozen (transferred or retired): the reversal fails whole. */
  REVERSAL_ENERGY_GONE: 'REVERSAL_ENERGY_GONE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class JouleError extends Error {
  readonly code: ErrorCode;
  /** Dotted path of the offending field, e.g. `tx.nonce` or `validators[2].blsKey`. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(field === undefined ? message : `${field}: ${message}`);
    this.name = 'JouleError';
    this.code = code;
    this.field = field;
  }

  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, field: this.field };
  }
}

export function isJouleError(e: unknown): e is JouleError {
  return e instanceof JouleError;
}

/**
 * An error after which the node must stop rather than go on: it says nothing about the
 * input at hand (never count it as an invalid block or a bad peer) and everything about
 * this node's ability to agree with the others.
 */
export function isFatal(e: unknown): e is JouleError {
  return (
    isJouleError(e) &&
    (e.code === ErrorCode.HOOK_FAILED ||
      e.code === ErrorCode.SAFETY_VIOLATION ||
      e.code === ErrorCode.STATE_UNDECLARED_READ ||
      e.code === ErrorCode.STORAGE_FAILED)
  );
}
