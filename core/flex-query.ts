import type { FlexActivation, FlexBid, FlexIntervalResult } from './flex.ts';

/**
 * What the RPC layer asks of a node about flexibility (rpc/node-api.ts), what a node
 * answers (state/flex-lists.ts), and the JSON of those answers (rpc/jsonrpc/flex-format.ts,
 * the CLI): bounded pages with an opaque cursor (the last index key's tail), every record
 * with the state key joule_getProof proves. Amounts are decimal strings; ids and keys 0x hex.
 */

/** Most items one page holds (and the default). */
export const MAX_FLEX_PAGE = 100;

export interface FlexPageQuery {
  readonly limit: number;
  readonly after?: Uint8Array;
}

export interface ListedFlexBid {
  readonly id: Uint8Array;
  readonly bid: FlexBid;
  readonly key: Uint8Array;
}

export interface ListedFlexActivation {
  readonly id: Uint8Array;
  readonly activation: FlexActivation;
  readonly key: Uint8Array;
}

export interface ListedFlexInterval {
  readonly intervalStartMs: number;
  readonly result: FlexIntervalResult;
  readonly key: Uint8Array;
}

export interface FlexPage<T> {
  readonly items: readonly T[];
  readonly next: Uint8Array | undefined;
}

export interface FlexBidJson {
  id: string;
  aggregator: string;
  deviceIds: string[];
  capacityKw: number;
  rampUpKwPerMin: number;
  rampDownKwPerMin: number;
  minSocPercent: number;
  maxSocPercent: number;
  /** Micro-units per MWh. */
  pricePerMwh: string;
  availableFromMs: number;
  availableUntilMs: number;
  height: number;
  reservedUntilMs: number;
  stateKey: string;
}

export interface FlexActivationJson {
  id: string;
  bidId: string;
  dso: string;
  aggregator: string;
  powerKw: number;
  /** The bid's ramp-up rate when activated: the first intervals target what the fleet can reach (docs/protocol.md). */
  rampUpKwPerMin: number;
  startMs: number;
  endMs: number;
  pricePerMwh: string;
  activatedAtMs: number;
  /** The last moment a confirmation counts: activatedAtMs + 30,000. */
  confirmByMs: number;
  height: number;
  /** pending, confirmed, lapsed, settled */
  status: string;
  confirmedAtMs: number | null;
  commandHash: string;
  escrow: string;
  baselineWh: string | null;
  baselineIntervals: number;
  settledIntervals: number;
  deliveredWh: string;
  paid: string;
  penalty: string;
  stateKey: string;
}

export interface FlexIntervalJson {
  intervalStartMs: number;
  meteredWh: string;
  baselineWh: string;
  targetWh: string;
  deliveredWh: string;
  payment: string;
  penaltyDue: string;
  penalty: string;
  height: number;
  stateKey: string;
}

export interface FlexBidListJson {
  bids: FlexBidJson[];
  nextCursor: string | null;
}

export interface FlexActivationListJson {
  activations: FlexActivationJson[];
  nextCursor: string | null;
}

export interface FlexIntervalListJson {
  intervals: FlexIntervalJson[];
  nextCursor: string | null;
}
