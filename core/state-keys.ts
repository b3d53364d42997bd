import { concatBytes, headedBytes, u64be, utf8 } from './bytes.ts';

/**
 * The state key space, one table for every part: a prefix byte per kind of record, then
 * the record's id. These keys are what the state tree authenticates, what
 * `joule_getProof` / `joule query proof KEY` prove, and what state/'s typed views read and
 * write. A prefix, once given, is never reused.
 */
export const StatePrefix = {
  account: 0x01,
  validatorSet: 0x02,
  validatorVote: 0x03,
  evidence: 0x04,
  /**
   * Pending proposals decided by a validator majority other than validator-set changes:
   * role grants and revocations, device changes by governance (state/governance-votes.ts).
   */
  governanceVote: 0x05,
  /** Devices: buckets in DeviceBucket (state/devices.ts). */
  device: 0x10,
  energyUtxo: 0x11,
  /** Telemetry: buckets in TelemetryBucket (state/telemetry.ts). */
  telemetry: 0x12,
  /** Anchored grid commands: ++ commandHash (32) -> the anchored command (state/commands.ts). */
  command: 0x13,
  /** Markets: buckets in MarketBucket (state/markets.ts). */
  order: 0x20,
  agreement: 0x21,
  /** Flexibility bids, activations and their settlement: buckets in FlexBucket (state/flex.ts). */
  flex: 0x22,
  /** Governed reversals of settlements: buckets in ReversalBucket (state/reversals.ts). */
  reversal: 0x23,
  chainMeta: 0x7f,
} as const;
export type StatePrefixId = (typeof StatePrefix)[keyof typeof StatePrefix];

/**
 * Buckets under StatePrefix.evidence (state/evidence-records.ts): a kind that keeps more
 * than one sort of record gives each a bucket byte after its prefix byte.
 */
export const EvidenceBucket = {
  /** ++ id(32) -> u64be(inclusion sequence number): "already included?" */
  byId: 0x01,
  /** ++ u64be(seq) -> the record: lists in inclusion order */
  bySeq: 0x02,
  /** -> number of records */
  count: 0x03,
} as const;

export function stateKey(prefix: number, id: Uint8Array): Uint8Array {
  return headedBytes([prefix], [id]);
}

/** The key of an address's account record. */
export function accountKey(address: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.account, address);
}

/** Buckets under StatePrefix.device (state/devices.ts). */
export const DeviceBucket = {
  /** ++ deviceId (ASCII) -> the device record (core/device.ts encodeDevice) */
  record: 0x01,
  /** ++ operator (20) ++ deviceId -> 0x01: a paged list of one operator's devices */
  byOperator: 0x02,
  /** ++ u8(len zone) ++ zone ++ deviceId -> 0x01: a paged list of one zone's devices */
  byZone: 0x03,
  /** ++ u8(len checkMeter) ++ checkMeter ++ deviceId -> 0x01: the devices a check meter checks */
  byCheckMeter: 0x04,
} as const;

/** The key of a device's record: what `joule_getProof` proves for a device. */
export function deviceKey(deviceId: string): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.device, DeviceBucket.record]), utf8(deviceId));
}

/**
 * Buckets under StatePrefix.telemetry (state/telemetry.ts): what readings leave on chain.
 * Device ids in keys are length-prefixed where another field follows, so "a" and "a1"
 * never share a prefix.
 */
export const TelemetryBucket = {
  /** ++ deviceId -> the device's last reading on chain and its energy carry (core/meter.ts MeterCursor) */
  cursor: 0x01,
  /** ++ u8(len deviceId) ++ deviceId ++ u64be(intervalStartMs) -> one interval's metered totals (IntervalTotals) */
  totals: 0x02,
  /**
   * ++ u64be(intervalStartMs) ++ deviceId ++ 0x00 ++ (0x00 reported | 0x01 watch) -> CloseItem:
   * the interval-close queue, in (interval, device) order, a device's reported entry before
   * its watch (0x00 sorts before every id character, so "a" comes before "a0")
   */
  closeQueue: 0x03,
  /** ++ deviceId -> DeviceHealth: missed intervals, the de-rated estimate, the last verified interval */
  health: 0x04,
} as const;

function lengthPrefixed(id: string): Uint8Array {
  const b = utf8(id);
  return concatBytes(new Uint8Array([b.length]), b);
}

/** The key of one device's metered totals for the interval starting at `intervalStartMs`: what a proof of interval totals proves. */
export function intervalTotalsKey(deviceId: string, intervalStartMs: number): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.telemetry, TelemetryBucket.totals]), lengthPrefixed(deviceId), u64be(intervalStartMs));
}

/** The prefix of one device's interval totals, ascending by interval. */
export function intervalTotalsPrefix(deviceId: string): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.telemetry, TelemetryBucket.totals]), lengthPrefixed(deviceId));
}

/** The key of a device's telemetry cursor (its last reading on chain). */
export function meterCursorKey(deviceId: string): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.telemetry, TelemetryBucket.cursor]), utf8(deviceId));
}

/** The key of a device's health record (missing data). */
export function deviceHealthKey(deviceId: string): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.telemetry, TelemetryBucket.health]), utf8(deviceId));
}

/** Every close-queue key starts with this; then u64be(intervalStartMs) ++ deviceId ++ 0x00 ++ kind. */
export const CLOSE_QUEUE_PREFIX = new Uint8Array([StatePrefix.telemetry, TelemetryBucket.closeQueue]);

/** The queue entries of one interval. */
export function closeQueueIntervalPrefix(intervalStartMs: number): Uint8Array {
  return concatBytes(CLOSE_QUEUE_PREFIX, u64be(intervalStartMs));
}

/** A device's entry for an interval: what it reported, or a watch for missing data. */
export function closeQueueKey(intervalStartMs: number, deviceId: string, watch: boolean): Uint8Array {
  return concatBytes(CLOSE_QUEUE_PREFIX, u64be(intervalStartMs), utf8(deviceId), new Uint8Array([0, watch ? 1 : 0]));
}

/**
 * Buckets under StatePrefix.energyUtxo (state/energy.ts): energy UTXOs, certificates, and
 * what minting needs (storage carbon per device, grid intensity per zone and interval).
 * Index entries map to 0x01; their keys end with the record's id, so a listing reads in
 * id order within its group.
 */
export const EnergyBucket = {
  /** ++ utxoId (32) -> the UTXO (core/energy.ts encodeEnergyUtxo) */
  utxo: 0x01,
  /** ++ owner (20) ++ utxoId -> 0x01 */
  utxoByOwner: 0x02,
  /** ++ certificateId (32) -> the certificate (core/energy.ts encodeCertificate) */
  certificate: 0x03,
  /** ++ beneficiary (20) ++ certificateId -> 0x01 */
  certificateByBeneficiary: 0x04,
  /** ++ u8(len deviceId) ++ deviceId ++ certificateId -> 0x01 */
  certificateByDevice: 0x05,
  /** ++ u8(len zone) ++ zone ++ certificateId -> 0x01 */
  certificateByZone: 0x06,
  /** ++ u64be(provenance intervalStartMs) ++ certificateId -> 0x01: certificates by the period their energy was produced in */
  certificateByPeriod: 0x07,
  /** ++ deviceId -> the storage-carbon pool of a battery / EV charger (vm/energy/storage-carbon.ts) */
  storageCarbon: 0x08,
  /** ++ u64be(intervalStartMs) ++ zone -> a zone's grid carbon intensity for an interval (tx grid-intensity); one interval's posts share a prefix */
  gridIntensity: 0x09,
  /** ++ zone -> the zone's most recent posted interval and intensity (the fallback for an interval nobody posted) */
  gridIntensityLatest: 0x0a,
} as const;

/** The key of an energy UTXO: what `joule_getProof` proves for one. */
export function energyUtxoKey(id: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.energyUtxo, EnergyBucket.utxo]), id);
}

/** The key of a certificate. */
export function certificateKey(id: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.energyUtxo, EnergyBucket.certificate]), id);
}

/**
 * Buckets under StatePrefix.order (state/markets.ts): the double auction and its settlement.
 * M = u64be(intervalStartMs) ++ u8(len zone) ++ zone (a market); an order id is
 * M ++ side (0 bid, 1 ask) ++ u64be(price key) ++ u64be(height) ++ u32be(index in block),
 * the price key being the price for asks and 2^64-1-price for bids, so the books list in
 * exactly the auction's priority order (core/market.ts).
 */
export const MarketBucket = {
  /** ++ M -> MarketRecord (counts, clearing progress, result) */
  market: 0x01,
  /** ++ bid order id -> BookOrder: open bids, best first */
  bids: 0x02,
  /** ++ ask order id -> BookOrder: open asks, best first */
  asks: 0x03,
  // 0x04 is free: the bids that traded waited here for their market's price, before the price came first (vm/markets/clearing.ts).
  /** ++ M ++ u32be(seq) -> Trade */
  trade: 0x05,
  /** ++ bid order id -> Held: a traded bid's escrow kept for settlement */
  escrow: 0x06,
  /** ++ ask order id -> Held: a traded ask's collateral kept for settlement */
  collateral: 0x07,
  /** ++ u64be(intervalStartMs) ++ u8(len) ++ deviceId ++ u8(len) ++ zone ++ u32be(seq) -> SettleItem: trades waiting for meter data */
  settleQueue: 0x08,
  /** same key as settleQueue: trades of an interval frozen by a check-meter disagreement, waiting for its resolution */
  settleHeld: 0x09,
  /** ++ address (20) ++ M ++ u32be(seq) -> 0x01: an account's trades (as buyer or seller) */
  tradeByAccount: 0x0a,
  /** ++ M ++ u32be(seq) -> Settlement: how a trade settled */
  settlement: 0x0b,
  /** ++ M ++ address (20) -> [side, open orders]: one side per account per market */
  side: 0x0c,
  /** ++ M ++ deviceId -> Wh offered by the device's open asks in the market (its export limit covers them) */
  deviceOffer: 0x0d,
  /** ++ u64be(intervalStartMs) ++ u8(len) ++ deviceId -> SettleProgress: a device's interval being settled across blocks */
  settleProgress: 0x0e,
  /** ++ u64be(intervalStartMs) ++ u8(len) ++ deviceId -> Wh: what the device's trades of the interval sold, once they have all settled */
  deviceTraded: 0x0f,
  /** ++ u64be(intervalStartMs) ++ u8(len) ++ deviceId -> u64be(height): a resolved interval whose held trades (settleHeld) settle from the next block */
  settleResolved: 0x10,
} as const;

/** A market's id: u64be(intervalStartMs) ++ u8(len zone) ++ zone. */
export function marketId(zone: string, intervalStartMs: number): Uint8Array {
  return concatBytes(u64be(intervalStartMs), lengthPrefixed(zone));
}

/** The key of a market's record: what a proof of a clearing result proves. */
export function marketKey(zone: string, intervalStartMs: number): Uint8Array {
  return marketBucketKey(MarketBucket.market, marketId(zone, intervalStartMs));
}

/** A key (or prefix) in one bucket: the bucket's bytes, then `parts`. */
export function marketBucketKey(bucket: number, ...parts: Uint8Array[]): Uint8Array {
  return headedBytes([StatePrefix.order, bucket], parts);
}

/** The key of an anchored grid command: what `joule_getProof` proves for a command hash. */
export function commandKey(commandHash: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.command, commandHash);
}

/**
 * Buckets under StatePrefix.agreement (state/agreements.ts): bilateral agreements. An
 * agreement's id is the hash of its proposing tx (32 bytes).
 */
export const AgreementBucket = {
  /** ++ id (32) -> the agreement (core/agreement.ts encodeAgreement) */
  record: 0x01,
  /** ++ address (20) ++ id -> 0x01: an account's agreements, as buyer or seller */
  byAccount: 0x02,
  /** ++ u64be(dueMs) ++ id ++ u8(kind) ++ u32be(slot) -> TimerRefs: the end-of-block hook's queue, due first */
  timer: 0x03,
  /** ++ id ++ u32be(slot) -> SlotSettlement: how a slot settled */
  slot: 0x04,
  /** ++ id -> Dispute */
  dispute: 0x05,
  /** ++ u8(len) ++ deviceId ++ id -> [firstSlotMs, slots, quantityWh]: the agreements a device delivers, while they execute */
  byDevice: 0x06,
  /** ++ u64be(intervalStartMs) ++ u8(len) ++ deviceId -> Wh: what the device's agreements scheduled in the interval, fixed when its over-delivery is first shared */
  intervalAgreed: 0x07,
} as const;

/** A key (or prefix) in one agreement bucket. */
export function agreementBucketKey(bucket: number, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.agreement, bucket]), ...parts);
}

/** The key of an agreement's record: what a proof of an agreement proves. */
export function agreementKey(id: Uint8Array): Uint8Array {
  return agreementBucketKey(AgreementBucket.record, id);
}

/** Buckets under StatePrefix.flex (state/flex.ts): flexibility bids, activations, their settlement, priced commands' payments. */
export const FlexBucket = {
  /** ++ bidId (32) -> FlexBid */
  bid: 0x01,
  /** ++ activationId (32) -> FlexActivation */
  activation: 0x02,
  /** ++ activationId ++ u64be(intervalStartMs) -> FlexIntervalResult */
  interval: 0x03,
  /** ++ u64be(dueMs) ++ kind (0 deadline, 1 activation interval, 2 command interval) ++ id (32) -> the settlement queue's entry */
  queue: 0x04,
  /** ++ aggregator (20) ++ bidId -> 0x01: an aggregator's bids */
  bidByAggregator: 0x05,
  /** ++ bidId ++ u64be(startMs) ++ activationId -> 0x01: a bid's activations by window */
  activationByBid: 0x06,
  /** ++ commandHash (32) ++ u64be(intervalStartMs) ++ deviceId -> CommandPayment: a priced command's payments */
  commandPayment: 0x07,
} as const;

/** A key (or prefix) in one flex bucket. */
export function flexKey(bucket: number, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.flex, bucket]), ...parts);
}

/** The key of a flexibility bid: what a proof of a bid proves. */
export function flexBidKey(bidId: Uint8Array): Uint8Array {
  return flexKey(FlexBucket.bid, bidId);
}

/** The key of a flexibility activation. */
export function flexActivationKey(activationId: Uint8Array): Uint8Array {
  return flexKey(FlexBucket.activation, activationId);
}

/** The key of how an activation's interval settled. */
export function flexIntervalKey(activationId: Uint8Array, intervalStartMs: number): Uint8Array {
  return flexKey(FlexBucket.interval, activationId, u64be(intervalStartMs));
}

/**
 * Buckets under StatePrefix.reversal (state/reversals.ts): the governors named in genesis
 * and the reversals of market settlements they propose and approve. A settlement is
 * named as the market's records name it: M ++ u32be(seq).
 */
export const ReversalBucket = {
  /** -> GovernorSet: [threshold k, [governor addresses, sorted]] (written at genesis) */
  governors: 0x01,
  /** ++ M ++ u32be(seq) -> Reversal: the one reversal (open or executed) of that settlement */
  bySettlement: 0x02,
  /** ++ u64be(id) -> M ++ u32be(seq): the settlement reversal `id` concerns */
  byId: 0x03,
  /** -> u64: the id the next proposal gets (1, 2, ...) */
  nextId: 0x04,
} as const;

/** A key (or prefix) in one reversal bucket. */
export function reversalBucketKey(bucket: number, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.reversal, bucket]), ...parts);
}
