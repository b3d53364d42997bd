import { utf8 } from '../../core/bytes.ts';
import { encode, type Encodable } from '../../core/codec.ts';
import { commandHash } from '../../core/command.ts';
import { ErrorCode } from '../../core/errors.ts';
import { type ActivationStatus, flexEscrow, type FlexBid, rampedEnergyWh } from '../../core/flex.ts';
import { sha256 } from '../../core/hash.ts';
import { parseAddress } from '../../core/keys.ts';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { buildFlexActivate, decodeFlexActivateBody, encodeFlexActivateBody, type FlexActivateBody } from '../../core/tx/flex-activate.ts';
import { buildFlexBid, decodeFlexBidBody, encodeFlexBidBody, type FlexBidBody } from '../../core/tx/flex-bid.ts';
import { buildFlexConfirm, decodeFlexConfirmBody, encodeFlexConfirmBody } from '../../core/tx/flex-confirm.ts';
import { buildFlexWithdraw, decodeFlexWithdrawBody, encodeFlexWithdrawBody } from '../../core/tx/flex-withdraw.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putFlexActivation, putFlexBid } from '../../state/flex.ts';
import type { StateOverlay } from '../../state/overlay.ts';
import { fleetCommand } from '../../vm/flex/command.ts';
import { type Fields, type InvalidTxVector, invalid, tx } from './invalid-tx-builder.ts';
import { MARKET_START } from './market-vectors.ts';
import { hex, unhex } from './notation.ts';
import { CONTEXT_BLOCK } from './telemetry-vectors.ts';
import type { ValidTxVector } from './valid-txs.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * Flexibility's part of the vector file: valid and one-defect invalid flex-bid (42),
 * flex-activate (43) and flex-confirm (44) transactions against the context chain, which
 * holds aggregator-two's bid over meter-0001 (20 kW, 150 per MWh, the 8 intervals from the
 * one after the block's) and two pending activations of it by dso-north: one 10 s old
 * (confirmable), one 31 s old (too late to confirm).
 */

const INTERVAL = DEFAULT_PARAMS.settlementIntervalMs;

/** A bid of the context chain (aggregator by key name). */
export interface FlexBidContext {
  id: string;
  aggregator: string;
  deviceIds: string[];
  capacityKw: number;
  rampUpKwPerMin: number;
  rampDownKwPerMin: number;
  minSocPercent: number;
  maxSocPercent: number;
  pricePerMwh: string;
  availableFromMs: number;
  availableUntilMs: number;
  height: number;
  reservedUntilMs: number;
}

/** An activation of the context chain (dso and aggregator by key name); the dso's account has its `escrow` locked besides its balance. */
export interface FlexActivationContext {
  id: string;
  bidId: string;
  dso: string;
  aggregator: string;
  powerKw: number;
  rampUpKwPerMin: number;
  startMs: number;
  endMs: number;
  pricePerMwh: string;
  activatedAtMs: number;
  height: number;
  status: ActivationStatus;
  commandHash: string;
  escrow: string;
}

const contextId = (label: string) => hex(sha256(utf8(`joule-protocol-vectors/${label}`)));

const BID_TERMS = {
  deviceIds: ['meter-0001'],
  capacityKw: 20,
  rampUpKwPerMin: 10,
  rampDownKwPerMin: 10,
  minSocPercent: 10,
  maxSocPercent: 90,
  pricePerMwh: 150_000_000n,
  availableFromMs: MARKET_START,
  availableUntilMs: MARKET_START + 8 * INTERVAL,
};

export function contextFlexBids(): FlexBidContext[] {
  return [
    {
      id: contextId('flex-bid/1'),
      aggregator: KEYS.aggregator.name,
      ...BID_TERMS,
      deviceIds: [...BID_TERMS.deviceIds],
      pricePerMwh: BID_TERMS.pricePerMwh.toString(),
      height: 8,
      reservedUntilMs: MARKET_START + 2 * INTERVAL,
    },
  ];
}

export function contextFlexActivations(): FlexActivationContext[] {
  const bid = contextFlexBids()[0]!;
  const one = (n: number, agoMs: number, height: number): FlexActivationContext => {
    const window = { powerKw: 20, startMs: MARKET_START + (n - 1) * INTERVAL, endMs: MARKET_START + n * INTERVAL };
    const command = fleetCommand(KEYS.north.address, BID_TERMS, window);
    return {
      id: contextId(`flex-activation/${n}`),
      bidId: bid.id,
      dso: KEYS.north.name,
      aggregator: KEYS.aggregator.name,
      ...window,
      rampUpKwPerMin: BID_TERMS.rampUpKwPerMin,
      pricePerMwh: bid.pricePerMwh,
      activatedAtMs: CONTEXT_BLOCK.timestampMs - agoMs,
      height,
      status: 'pending',
      commandHash: hex(commandHash(VECTOR_CHAIN_ID, command)),
      escrow: flexEscrow(rampedEnergyWh(20, BID_TERMS.rampUpKwPerMin, 0, INTERVAL), BID_TERMS.pricePerMwh).toString(),
    };
  };
  return [one(1, 10_000, 9), one(2, 31_000, 8)];
}

/** Writes the context's bids and activations. */
export function putContextFlex(
  state: StateOverlay,
  bids: readonly FlexBidContext[],
  activations: readonly FlexActivationContext[],
  addressOf: (name: string) => string,
): void {
  for (const b of bids) {
    const { id, aggregator, pricePerMwh, ...rest } = b;
    const bid: FlexBid = { ...rest, aggregator: parseAddress(addressOf(aggregator)), pricePerMwh: BigInt(pricePerMwh) };
    putFlexBid(state, unhex(id), bid, true);
  }
  for (const a of activations) {
    putFlexActivation(
      state,
      unhex(a.id),
      {
        bidId: unhex(a.bidId),
        dso: parseAddress(addressOf(a.dso)),
        aggregator: parseAddress(addressOf(a.aggregator)),
        powerKw: a.powerKw,
        rampUpKwPerMin: a.rampUpKwPerMin,
        startMs: a.startMs,
        endMs: a.endMs,
        pricePerMwh: BigInt(a.pricePerMwh),
        activatedAtMs: a.activatedAtMs,
        height: a.height,
        status: a.status,
        confirmedAtMs: undefined,
        commandHash: unhex(a.commandHash),
        escrow: BigInt(a.escrow),
        baselineWh: undefined,
        baselineIntervals: 0,
        settledIntervals: 0,
        deliveredWh: 0n,
        paid: 0n,
        penalty: 0n,
      },
      true,
    );
  }
}

const bidJson = (b: FlexBidBody) => ({ ...b, deviceIds: [...b.deviceIds], pricePerMwh: b.pricePerMwh.toString() });
const activateJson = (b: FlexActivateBody) => ({ bidId: hex(b.bidId), powerKw: b.powerKw, startMs: b.startMs, endMs: b.endMs });

type Vector = (name: string, description: string, signer: VectorKey, t: Tx, body: Record<string, unknown>) => ValidTxVector;

const BID: FlexBidBody = { ...BID_TERMS, capacityKw: 28, pricePerMwh: 120_000_000n };
/** The third interval of the context bid: after its two activations' windows. */
const ACTIVATE = (): FlexActivateBody => ({
  bidId: unhex(contextFlexBids()[0]!.id),
  powerKw: 20,
  startMs: MARKET_START + 2 * INTERVAL,
  endMs: MARKET_START + 3 * INTERVAL,
});

export function validFlexTxVectors(vector: Vector): ValidTxVector[] {
  const { aggregator, north } = KEYS;
  const [inTime] = contextFlexActivations();
  return [
    vector(
      'flex-bid',
      "aggregator-two offers meter-0001's flexibility: 28 kW (all its 17,250 W import and 11,000 W export can shift), ramps 10 kW/min, state of charge 10-90 %, 120 per MWh (120,000,000 micro-units), for the 8 intervals from the one after the block's",
      aggregator,
      buildFlexBid({ chainId: VECTOR_CHAIN_ID, seed: aggregator.seed, nonce: 7, fee: 25n, ...BID }),
      bidJson(BID),
    ),
    vector(
      'flex-activate',
      "dso-north activates the context bid at 20 kW for its third interval (after its two activations' windows); it escrows ceil(4,666 Wh x 150 per MWh) = 699,900: 20 kW for 15 minutes less half of the 2 minutes its 10 kW/min ramp takes (floor(4,666.7))",
      north,
      buildFlexActivate({ chainId: VECTOR_CHAIN_ID, seed: north.seed, nonce: 6, fee: 25n, ...ACTIVATE() }),
      activateJson(ACTIVATE()),
    ),
    vector(
      'flex-confirm',
      "aggregator-two confirms the context's activation made 10 s before the block (within the 30 s)",
      aggregator,
      buildFlexConfirm({ chainId: VECTOR_CHAIN_ID, seed: aggregator.seed, nonce: 8, fee: 25n, activationId: unhex(inTime!.id) }),
      { activationId: inTime!.id },
    ),
    vector(
      'flex-withdraw',
      "aggregator-two withdraws the context bid: its availability now ends where its second activation's window does; no new activation fits",
      aggregator,
      buildFlexWithdraw({ chainId: VECTOR_CHAIN_ID, seed: aggregator.seed, nonce: 9, fee: 25n, bidId: unhex(contextFlexBids()[0]!.id) }),
      { bidId: contextFlexBids()[0]!.id },
    ),
  ];
}

const fields = (type: number, sender: VectorKey, body: Encodable): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type,
  sender: sender.publicKey,
  nonce: 0,
  fee: 25n,
  body: encode(body),
});
const bidWire = (b: Partial<FlexBidBody>): Encodable => {
  const f = { ...BID, ...b };
  return [
    [...f.deviceIds],
    f.capacityKw,
    f.rampUpKwPerMin,
    f.rampDownKwPerMin,
    f.minSocPercent,
    f.maxSocPercent,
    f.pricePerMwh,
    f.availableFromMs,
    f.availableUntilMs,
  ];
};
const bid = (sender: VectorKey, b: Partial<FlexBidBody>) => tx(fields(TxType.flexBid, sender, bidWire(b)), {}, sender);
const activate = (sender: VectorKey, b: Partial<FlexActivateBody>) => {
  const f = { ...ACTIVATE(), ...b };
  return tx(fields(TxType.flexActivate, sender, [f.bidId, f.powerKw, f.startMs, f.endMs]), {}, sender);
};
const confirm = (sender: VectorKey, id: Uint8Array) => tx(fields(TxType.flexConfirm, sender, [id]), {}, sender);
const withdraw = (sender: VectorKey, id: Uint8Array) => tx(fields(TxType.flexWithdraw, sender, [id]), {}, sender);

export function invalidFlexTxVectors(): InvalidTxVector[] {
  const { aggregator, north, bob } = KEYS;
  const [inTime, late] = contextFlexActivations();
  return [
    invalid('flex-bid-by-non-aggregator', 'validateTx', ErrorCode.TX_UNAUTHORIZED, 'tx.sender', 'bob (no aggregator role) offers a fleet', bid(bob, {})),
    invalid(
      'flex-bid-device-of-another-operator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.body.deviceIds[0]',
      "aggregator-two's fleet names ev-0003, which dso-north operates",
      bid(aggregator, { deviceIds: ['ev-0003'] }),
    ),
    invalid(
      'flex-bid-beyond-fleet',
      'validateTx',
      ErrorCode.FLEX_CAPACITY,
      'tx.body.capacityKw',
      'a capacity of 29 kW: meter-0001 shifts at most 28 kW (17,250 W import and 11,000 W export, rounded down)',
      bid(aggregator, { capacityKw: 29 }),
    ),
    invalid(
      'flex-bid-state-of-charge-inverted',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.maxSocPercent',
      'a maximum state of charge of 5 % below the minimum of 10 %',
      bid(aggregator, { maxSocPercent: 5 }),
    ),
    invalid(
      'flex-activate-by-non-dso',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'aggregator-two (no dso role) activates its own bid',
      activate(aggregator, {}),
    ),
    invalid(
      'flex-activate-unknown-bid',
      'validateTx',
      ErrorCode.FLEX_BID_UNKNOWN,
      'tx.body.bidId',
      'a bid id no bid has',
      activate(north, { bidId: new Uint8Array(32).fill(0xab) }),
    ),
    invalid(
      'flex-activate-above-capacity',
      'validateTx',
      ErrorCode.FLEX_CAPACITY,
      'tx.body.powerKw',
      "21 kW of the bid's 20 kW",
      activate(north, { powerKw: 21 }),
    ),
    invalid(
      'flex-activate-overlapping',
      'validateTx',
      ErrorCode.FLEX_WINDOW,
      'tx.body.startMs',
      "the bid's second interval, already in the window of its second activation",
      activate(north, { startMs: MARKET_START + INTERVAL, endMs: MARKET_START + 2 * INTERVAL }),
    ),
    invalid(
      'flex-activate-beyond-availability',
      'validateTx',
      ErrorCode.FLEX_WINDOW,
      'tx.body.endMs',
      "a window running one interval past the bid's availability",
      activate(north, { endMs: MARKET_START + 9 * INTERVAL }),
    ),
    invalid(
      'flex-activate-unaligned',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.startMs',
      'a window starting one minute into a 15-minute settlement interval',
      activate(north, { startMs: MARKET_START + 2 * INTERVAL + 60_000 }),
    ),
    invalid(
      'flex-confirm-late',
      'validateTx',
      ErrorCode.FLEX_CONFIRM_LATE,
      'tx.body.activationId',
      "aggregator-two confirms the context's activation made 31 s before the block: 1 s too late, it lapses",
      confirm(aggregator, unhex(late!.id)),
    ),
    invalid(
      'flex-confirm-not-aggregator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'bob confirms an activation of aggregator-two’s bid',
      confirm(bob, unhex(inTime!.id)),
    ),
    invalid(
      'flex-confirm-unknown-activation',
      'validateTx',
      ErrorCode.FLEX_ACTIVATION_UNKNOWN,
      'tx.body.activationId',
      'an activation id no activation has',
      confirm(aggregator, new Uint8Array(32).fill(0xcd)),
    ),
    invalid(
      'flex-withdraw-not-aggregator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'dso-north withdraws aggregator-two’s bid',
      withdraw(north, unhex(contextFlexBids()[0]!.id)),
    ),
    invalid(
      'flex-withdraw-unknown-bid',
      'validateTx',
      ErrorCode.FLEX_BID_UNKNOWN,
      'tx.body.bidId',
      'a bid id no bid has',
      withdraw(aggregator, new Uint8Array(32).fill(0xab)),
    ),
  ];
}

/** The body codecs of types 42-45 seen through the vector file's JSON fields (vectors.test.ts BODY_CODECS). */
export const FLEX_BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  'flex-bid': { fields: (b) => bidJson(decodeFlexBidBody(b)), encode: (b) => encodeFlexBidBody(decodeFlexBidBody(b)) },
  'flex-activate': { fields: (b) => activateJson(decodeFlexActivateBody(b)), encode: (b) => encodeFlexActivateBody(decodeFlexActivateBody(b)) },
  'flex-confirm': {
    fields: (b) => ({ activationId: hex(decodeFlexConfirmBody(b).activationId) }),
    encode: (b) => encodeFlexConfirmBody(decodeFlexConfirmBody(b)),
  },
  'flex-withdraw': {
    fields: (b) => ({ bidId: hex(decodeFlexWithdrawBody(b).bidId) }),
    encode: (b) => encodeFlexWithdrawBody(decodeFlexWithdrawBody(b)),
  },
};
