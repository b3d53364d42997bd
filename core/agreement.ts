import { decode, encode, readAmount, readArray, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { MAX_DEVICE_ID_LENGTH, MAX_ZONE_LENGTH } from './device.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { sha256 } from './hash.ts';
import { ADDRESS_LENGTH } from './keys.ts';

/**
 * Bilateral agreements (vm/agreements/, state/agreements.ts, RPC, the CLI): a seller
 * delivers `quantityWh` from one device in each slot of a schedule (slots are settlement
 * intervals), a buyer pays per slot at a price formula, both post collateral. Amounts are
 * bigint: Wh, prices in micro-units per kWh, money in micro-units. Nothing here is a float.
 *
 * Phases: proposed -> signed (cooling-off of COOLING_OFF_MS from the signing block's time,
 * either party may withdraw) -> collateralised (both parties' collateral at the level) ->
 * executing (from the first slot's start) -> settled (after the last slot settled);
 * disputed (from executing, or within DISPUTE_WINDOW_MS after settlement) until a
 * validator majority decides; withdrawn, lapsed (not collateralised by the first slot) and
 * liquidated (a margin call not met by its deadline) are final.
 */

export const AGREEMENT_PHASES = ['proposed', 'signed', 'collateralised', 'executing', 'disputed', 'settled', 'withdrawn', 'lapsed', 'liquidated'] as const;
export type AgreementPhase = (typeof AGREEMENT_PHASES)[number];

export type PartyRole = 'buyer' | 'seller';

/** Either party may withdraw this long after the signing block's time (exclusive). */
export const COOLING_OFF_MS = 60_000;
/** A margin call must be met by the block time it was made at plus this. */
export const MARGIN_CALL_MS = 30 * 60_000;
/** A dispute may be raised up to this long after the agreement settled. */
export const DISPUTE_WINDOW_MS = 48 * 3_600_000;
/**
 * A dispute no validator majority decided this long after it opened ends as a failed claim
 * without a fee (a tie, validators that never vote, or no validator but the parties would
 * otherwise freeze the money for ever).
 */
export const DISPUTE_DECISION_MS = 7 * 86_400_000;
/** Collateral bounds, basis points of the contract value (10 % .. 20 %). */
export const MIN_COLLATERAL_BPS = 1000;
export const MAX_COLLATERAL_BPS = 2000;
/** The arbitration fee the loser of a dispute pays, basis points of the disputed amount (1 %). */
export const ARBITRATION_FEE_BPS = 100n;
/** Most slots one agreement may schedule (30 days of 15-minute slots). */
export const MAX_AGREEMENT_SLOTS = 2880;
/**
 * Agreements one device may deliver at once: one that would start beyond lapses. Every slot
 * and every market settlement of the device reads them all (its over-delivery share), so
 * without a bound a device's owner could make each of those cost what it pleased.
 */
export const MAX_EXECUTING_AGREEMENTS_PER_DEVICE = 16;
export const HOURS_PER_DAY = 24;

/**
 * How a slot is priced (micro-units per kWh):
 * - fixed: one price for every slot;
 * - time-of-use: a table of 24 prices by the slot start's hour of the day (UTC);
 * - market: the zone's market price for the slot's interval (its clearing price, where the
 *   market cleared with trades) plus `premium`; `fallback` where there is none.
 */
export type PriceFormula =
  | { readonly kind: 'fixed'; readonly price: bigint }
  | { readonly kind: 'time-of-use'; readonly table: readonly bigint[] }
  | { readonly kind: 'market'; readonly premium: bigint; readonly fallback: bigint };

export function priceFormulaWire(p: PriceFormula): Encodable {
  if (p.kind === 'fixed') return [0, p.price];
  if (p.kind === 'time-of-use') return [1, [...p.table]];
  return [2, p.premium, p.fallback];
}

export function readPriceFormula(v: Encodable, path: string): PriceFormula {
  const f = readArray(v, path);
  const kind = f.length === 0 ? -1 : readUint(f[0]!, `${path}.kind`);
  if (kind === 0 && f.length === 2) return { kind: 'fixed', price: readAmount(f[1]!, `${path}.price`) };
  if (kind === 1 && f.length === 2) {
    const t = readArray(f[1]!, `${path}.table`);
    if (t.length !== HOURS_PER_DAY) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must hold ${HOURS_PER_DAY} prices, one per hour`, `${path}.table`);
    return { kind: 'time-of-use', table: t.map((x, i) => readAmount(x, `${path}.table[${i}]`)) };
  }
  if (kind === 2 && f.length === 3) return { kind: 'market', premium: readAmount(f[1]!, `${path}.premium`), fallback: readAmount(f[2]!, `${path}.fallback`) };
  throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'must be [0, price], [1, [24 prices]] or [2, premium, fallback]', path);
}

/** Every price a formula may charge besides a market's: what the price cap bounds. */
export function statedPrices(p: PriceFormula): readonly bigint[] {
  if (p.kind === 'fixed') return [p.price];
  if (p.kind === 'time-of-use') return p.table;
  return [p.premium, p.fallback];
}

/** The hour of the day (UTC) a slot starts in. */
export function hourOfDay(slotStartMs: number): number {
  return Math.floor((slotStartMs % 86_400_000) / 3_600_000);
}

/**
 * The price a slot is valued at before it settles (collateral, contract value): the
 * formula's stated price; for a market formula its fallback, the only price known ahead.
 */
export function referencePrice(p: PriceFormula, slotStartMs: number): bigint {
  if (p.kind === 'fixed') return p.price;
  if (p.kind === 'time-of-use') return p.table[hourOfDay(slotStartMs)]!;
  return p.fallback;
}

/** The price a slot settles at; `marketPrice` is the zone market's clearing price for the slot, when it cleared with trades. */
export function slotPrice(p: PriceFormula, slotStartMs: number, marketPrice: bigint | undefined): bigint {
  if (p.kind === 'market') return marketPrice === undefined ? p.fallback : marketPrice + p.premium;
  return referencePrice(p, slotStartMs);
}

export interface AgreementTerms {
  readonly buyer: Uint8Array;
  readonly seller: Uint8Array;
  /** The seller's device whose metered export delivers. */
  readonly deviceId: string;
  /** Wh per slot. */
  readonly quantityWh: bigint;
  /** Start of the first slot (aligned to settlementIntervalMs); slots follow back to back. */
  readonly firstSlotMs: number;
  readonly slots: number;
  readonly price: PriceFormula;
  readonly collateralBps: number;
}

export interface Agreement extends AgreementTerms {
  readonly id: Uint8Array;
  readonly proposer: PartyRole;
  /** The device's zone at proposal: whose market prices a market formula, whose imbalance account over-delivery pays. */
  readonly zone: string;
  readonly phase: AgreementPhase;
  readonly proposedAtMs: number;
  /** 0 until signed; the cooling-off ends at signedAtMs + COOLING_OFF_MS. */
  readonly signedAtMs: number;
  /** 0 until settled. */
  readonly settledAtMs: number;
  readonly buyerCollateral: bigint;
  readonly sellerCollateral: bigint;
  /** Slots settled so far; the next slot to settle. */
  readonly nextSlot: number;
  /** Sum over the unsettled slots of quantityWh x reference price (unscaled: / 1000 for micro-units). */
  readonly remainingValue: bigint;
  /** Deadline of an open margin call on each party, ms (0: none). */
  readonly buyerCallMs: number;
  readonly sellerCallMs: number;
  readonly deliveredWh: bigint;
  readonly paid: bigint;
}

export function slotStart(a: Pick<AgreementTerms, 'firstSlotMs'>, slot: number, settlementIntervalMs: number): number {
  return a.firstSlotMs + slot * settlementIntervalMs;
}

/** Sum of quantityWh x reference price over slots [from, slots): the unscaled value still to deliver. */
export function scheduleValue(t: Pick<AgreementTerms, 'quantityWh' | 'firstSlotMs' | 'slots' | 'price'>, from: number, settlementIntervalMs: number): bigint {
  let sum = 0n;
  for (let k = from; k < t.slots; k++) sum += referencePrice(t.price, slotStart(t, k, settlementIntervalMs));
  return sum * t.quantityWh;
}

/** The contract value in micro-units: ceil(sum of quantity x reference price / 1000). */
export function contractValue(unscaled: bigint): bigint {
  return (unscaled + 999n) / 1000n;
}

/**
 * The collateral level of each party: ceil(remaining value x bps / 10^7) (value unscaled,
 * so one rounding, up). Collateralising posts it; a margin call asks to restore it. It is
 * 150 % of the requirement (bps / 1.5 of the remaining value): "a margin call when
 * collateral falls below 150 % of the requirement" is a call when it falls below this level.
 */
export function collateralLevel(remainingValue: bigint, bps: number): bigint {
  return (remainingValue * BigInt(bps) + 9_999_999n) / 10_000_000n;
}

export function partyRole(a: Pick<Agreement, 'buyer' | 'seller'>, address: Uint8Array): PartyRole | undefined {
  const eq = (x: Uint8Array) => x.length === address.length && x.every((b, i) => b === address[i]);
  return eq(a.buyer) ? 'buyer' : eq(a.seller) ? 'seller' : undefined;
}

const role = (r: PartyRole) => (r === 'buyer' ? 0 : 1);
const readRole = (v: Encodable, path: string): PartyRole => {
  const n = readUint(v, path);
  if (n > 1) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'must be 0 (buyer) or 1 (seller)', path);
  return n === 0 ? 'buyer' : 'seller';
};

export function encodeAgreement(a: Agreement): Uint8Array {
  return encode([
    a.id,
    a.buyer,
    a.seller,
    role(a.proposer),
    a.deviceId,
    a.zone,
    a.quantityWh,
    a.firstSlotMs,
    a.slots,
    priceFormulaWire(a.price),
    a.collateralBps,
    AGREEMENT_PHASES.indexOf(a.phase),
    a.proposedAtMs,
    a.signedAtMs,
    a.settledAtMs,
    a.buyerCollateral,
    a.sellerCollateral,
    a.nextSlot,
    a.remainingValue,
    a.buyerCallMs,
    a.sellerCallMs,
    a.deliveredWh,
    a.paid,
  ]);
}

export function decodeAgreement(bytes: Uint8Array): Agreement {
  const f = readArray(decode(bytes, 'agreement'), 'agreement', 23);
  const phase = AGREEMENT_PHASES[readUint(f[11]!, 'agreement.phase')];
  if (phase === undefined) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'unknown agreement phase', 'agreement.phase');
  return {
    id: readBytes(f[0]!, 'agreement.id', 32),
    buyer: readBytes(f[1]!, 'agreement.buyer', ADDRESS_LENGTH),
    seller: readBytes(f[2]!, 'agreement.seller', ADDRESS_LENGTH),
    proposer: readRole(f[3]!, 'agreement.proposer'),
    deviceId: readString(f[4]!, 'agreement.deviceId', MAX_DEVICE_ID_LENGTH),
    zone: readString(f[5]!, 'agreement.zone', MAX_ZONE_LENGTH),
    quantityWh: readAmount(f[6]!, 'agreement.quantityWh'),
    firstSlotMs: readUint(f[7]!, 'agreement.firstSlotMs'),
    slots: readUint(f[8]!, 'agreement.slots'),
    price: readPriceFormula(f[9]!, 'agreement.price'),
    collateralBps: readUint(f[10]!, 'agreement.collateralBps'),
    phase,
    proposedAtMs: readUint(f[12]!, 'agreement.proposedAtMs'),
    signedAtMs: readUint(f[13]!, 'agreement.signedAtMs'),
    settledAtMs: readUint(f[14]!, 'agreement.settledAtMs'),
    buyerCollateral: readAmount(f[15]!, 'agreement.buyerCollateral'),
    sellerCollateral: readAmount(f[16]!, 'agreement.sellerCollateral'),
    nextSlot: readUint(f[17]!, 'agreement.nextSlot'),
    remainingValue: readAmount(f[18]!, 'agreement.remainingValue'),
    buyerCallMs: readUint(f[19]!, 'agreement.buyerCallMs'),
    sellerCallMs: readUint(f[20]!, 'agreement.sellerCallMs'),
    deliveredWh: readAmount(f[21]!, 'agreement.deliveredWh'),
    paid: readAmount(f[22]!, 'agreement.paid'),
  };
}

/** How one slot settled. */
export interface SlotSettlement {
  readonly slot: number;
  readonly meteredWh: bigint;
  readonly deliveredWh: bigint;
  readonly price: bigint;
  /** floor(delivered x price / 1000), buyer to seller (what balance and collateral covered). */
  readonly payment: bigint;
  /** Under-delivery penalty, seller to buyer (what collateral and balance covered). */
  readonly penalty: bigint;
  /** Over-delivery charge, seller to the zone's imbalance account (what collateral and balance covered). */
  readonly overCharge: bigint;
  readonly utxoId: Uint8Array | undefined;
  readonly height: number;
}

export function encodeSlotSettlement(s: SlotSettlement): Uint8Array {
  return encode([s.slot, s.meteredWh, s.deliveredWh, s.price, s.payment, s.penalty, s.overCharge, s.utxoId ?? new Uint8Array(0), s.height]);
}

export function decodeSlotSettlement(bytes: Uint8Array): SlotSettlement {
  const f = readArray(decode(bytes, 'slotSettlement'), 'slotSettlement', 9);
  const u = readBytes(f[7]!, 'slotSettlement.utxoId');
  return {
    slot: readUint(f[0]!, 'slotSettlement.slot'),
    meteredWh: readAmount(f[1]!, 'slotSettlement.meteredWh'),
    deliveredWh: readAmount(f[2]!, 'slotSettlement.deliveredWh'),
    price: readAmount(f[3]!, 'slotSettlement.price'),
    payment: readAmount(f[4]!, 'slotSettlement.payment'),
    penalty: readAmount(f[5]!, 'slotSettlement.penalty'),
    overCharge: readAmount(f[6]!, 'slotSettlement.overCharge'),
    utxoId: u.length === 0 ? undefined : u,
    height: readUint(f[8]!, 'slotSettlement.height'),
  };
}

/** A dispute: the claimant says the respondent owes `amount`, which is frozen until a validator majority decides. */
export interface Dispute {
  readonly claimant: PartyRole;
  /** What was frozen from the respondent (its collateral first, then its balance). */
  readonly frozen: bigint;
  /** The claimant's arbitration deposit (1 % of the claimed amount, rounded up), locked until the decision. */
  readonly deposit: bigint;
  readonly openedAtMs: number;
  /** The phase the agreement returns to when decided (a slot or the last one may settle meanwhile). */
  readonly resume: AgreementPhase;
  readonly votesBuyer: readonly Uint8Array[];
  readonly votesSeller: readonly Uint8Array[];
  /** Undefined while open. */
  readonly decidedFor: PartyRole | undefined;
  readonly fee: bigint;
}

export function encodeDispute(d: Dispute): Uint8Array {
  return encode([
    role(d.claimant),
    d.frozen,
    d.deposit,
    d.openedAtMs,
    AGREEMENT_PHASES.indexOf(d.resume),
    [...d.votesBuyer],
    [...d.votesSeller],
    d.decidedFor === undefined ? 2 : role(d.decidedFor),
    d.fee,
  ]);
}

export function decodeDispute(bytes: Uint8Array): Dispute {
  const f = readArray(decode(bytes, 'dispute'), 'dispute', 9);
  const resume = AGREEMENT_PHASES[readUint(f[4]!, 'dispute.resume')];
  if (resume === undefined) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'unknown phase', 'dispute.resume');
  const decided = readUint(f[7]!, 'dispute.decidedFor');
  const votes = (v: Encodable, p: string) => readArray(v, p).map((x, i) => readBytes(x, `${p}[${i}]`, ADDRESS_LENGTH));
  return {
    claimant: readRole(f[0]!, 'dispute.claimant'),
    frozen: readAmount(f[1]!, 'dispute.frozen'),
    deposit: readAmount(f[2]!, 'dispute.deposit'),
    openedAtMs: readUint(f[3]!, 'dispute.openedAtMs'),
    resume,
    votesBuyer: votes(f[5]!, 'dispute.votesBuyer'),
    votesSeller: votes(f[6]!, 'dispute.votesSeller'),
    decidedFor: decided === 2 ? undefined : readRole(decided, 'dispute.decidedFor'),
    fee: readAmount(f[8]!, 'dispute.fee'),
  };
}

/** The deposit a claim of `amount` takes: 1 % rounded up, so it always covers the fee the claimant may owe. */
export function arbitrationDeposit(amount: bigint): bigint {
  return (amount * ARBITRATION_FEE_BPS + 9_999n) / 10_000n;
}

/** The fee the loser pays: 1 % of the frozen amount, rounded down. */
export function arbitrationFee(frozen: bigint): bigint {
  return (frozen * ARBITRATION_FEE_BPS) / 10_000n;
}

/** A timer of the agreements' end-of-block hook: what is due and the records its reads need. */
export const TIMER_KINDS = ['start', 'slot', 'margin', 'dispute'] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

/** The value of a timer entry: what its processing reads besides the agreement (named so the hook can declare it). */
export interface TimerRefs {
  readonly buyer: Uint8Array;
  readonly seller: Uint8Array;
  readonly deviceId: string;
  readonly zone: string;
  /** A slot timer's interval (whose meter data, minted token and market it reads); 0 for other kinds. */
  readonly intervalStartMs: number;
}

export function encodeTimerRefs(r: TimerRefs): Uint8Array {
  return encode([r.buyer, r.seller, r.deviceId, r.zone, r.intervalStartMs]);
}

export function decodeTimerRefs(bytes: Uint8Array): TimerRefs {
  const f = readArray(decode(bytes, 'timer'), 'timer', 5);
  return {
    buyer: readBytes(f[0]!, 'timer.buyer', ADDRESS_LENGTH),
    seller: readBytes(f[1]!, 'timer.seller', ADDRESS_LENGTH),
    deviceId: readString(f[2]!, 'timer.deviceId', MAX_DEVICE_ID_LENGTH),
    zone: readString(f[3]!, 'timer.zone', MAX_ZONE_LENGTH),
    intervalStartMs: readUint(f[4]!, 'timer.intervalStartMs'),
  };
}

/** The id of the energy UTXO a slot's delivery gives the buyer. */
export function agreementUtxoId(id: Uint8Array, slot: number): Uint8Array {
  return sha256(encode(['JOULE/energy-utxo/agreement/v1', id, slot]));
}

/**
 * The insurance pool: where a liquidated party's collateral and the arbitration fees go.
 * The first 20 bytes of sha256(encode(["JOULE/insurance-pool/v1"])): no key controls it;
 * paying it out is a governance matter, not yet a tx.
 */
export const INSURANCE_POOL: Uint8Array = sha256(encode(['JOULE/insurance-pool/v1'])).subarray(0, ADDRESS_LENGTH);
