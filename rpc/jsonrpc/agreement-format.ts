/**
 * JSON shapes of bilateral agreements, their disputes and slot settlements (docs/json-rpc.md
 * Agreements). Pure, like market-format.ts: no lookups, testable from plain values.
 */
import {
  collateralLevel,
  contractValue,
  COOLING_OFF_MS,
  DISPUTE_WINDOW_MS,
  scheduleValue,
  slotStart,
  type Agreement,
  type Dispute,
  type PriceFormula,
} from '../../core/agreement.ts';
import type { AgreementDetailJson, AgreementJson, DisputeJson, PriceFormulaJson, SlotSettlementJson } from '../../core/agreement-json.ts';
import type { AgreementDetail, ListedAgreement, ListedSlotSettlement } from '../../core/agreement-query.ts';
import { formatAddress } from '../../core/keys.ts';
import { hex } from './json-format.ts';

export function formatPriceFormula(p: PriceFormula): PriceFormulaJson {
  if (p.kind === 'fixed') return { kind: p.kind, price: p.price.toString() };
  if (p.kind === 'time-of-use') return { kind: p.kind, table: p.table.map(String) };
  return { kind: p.kind, premium: p.premium.toString(), fallback: p.fallback.toString() };
}

const zeroIsNull = (ms: number) => (ms === 0 ? null : ms);

/**
 * `settlementIntervalMs` values the whole schedule (the contract value); the record's
 * remainingValue is what is left of it.
 */
export function formatAgreement(a: Agreement, key: Uint8Array, settlementIntervalMs: number): AgreementJson {
  return {
    id: hex(a.id),
    phase: a.phase,
    proposer: a.proposer,
    zone: a.zone,
    terms: {
      buyer: formatAddress(a.buyer),
      seller: formatAddress(a.seller),
      deviceId: a.deviceId,
      quantityWh: a.quantityWh.toString(),
      firstSlotMs: a.firstSlotMs,
      slots: a.slots,
      price: formatPriceFormula(a.price),
      collateralBps: a.collateralBps,
    },
    contractValue: contractValue(scheduleValue(a, 0, settlementIntervalMs)).toString(),
    proposedAtMs: a.proposedAtMs,
    signedAtMs: zeroIsNull(a.signedAtMs),
    coolingOffEndsMs: a.signedAtMs === 0 ? null : a.signedAtMs + COOLING_OFF_MS,
    settledAtMs: zeroIsNull(a.settledAtMs),
    disputeWindowEndsMs: a.settledAtMs === 0 ? null : a.settledAtMs + DISPUTE_WINDOW_MS,
    collateral: {
      buyer: a.buyerCollateral.toString(),
      seller: a.sellerCollateral.toString(),
      level: collateralLevel(a.remainingValue, a.collateralBps).toString(),
    },
    marginCall: { buyer: zeroIsNull(a.buyerCallMs), seller: zeroIsNull(a.sellerCallMs) },
    settledSlots: a.nextSlot,
    remainingValue: a.remainingValue.toString(),
    deliveredWh: a.deliveredWh.toString(),
    paid: a.paid.toString(),
    stateKey: hex(key),
  };
}

export function formatDispute(d: Dispute): DisputeJson {
  return {
    claimant: d.claimant,
    frozen: d.frozen.toString(),
    deposit: d.deposit.toString(),
    openedAtMs: d.openedAtMs,
    resume: d.resume,
    votesBuyer: d.votesBuyer.map(formatAddress),
    votesSeller: d.votesSeller.map(formatAddress),
    decidedFor: d.decidedFor ?? null,
    fee: d.fee.toString(),
  };
}

export function formatSlotSettlement(a: Agreement, l: ListedSlotSettlement, settlementIntervalMs: number): SlotSettlementJson {
  const s = l.settlement;
  return {
    slot: s.slot,
    intervalStartMs: slotStart(a, s.slot, settlementIntervalMs),
    meteredWh: s.meteredWh.toString(),
    deliveredWh: s.deliveredWh.toString(),
    price: s.price.toString(),
    payment: s.payment.toString(),
    penalty: s.penalty.toString(),
    overCharge: s.overCharge.toString(),
    utxo: s.utxoId === undefined ? null : hex(s.utxoId),
    height: s.height,
    stateKey: hex(l.key),
  };
}

export function formatAgreementDetail(d: AgreementDetail): AgreementDetailJson {
  const iv = d.settlementIntervalMs;
  return {
    ...formatAgreement(d.agreement, d.key, iv),
    dispute: d.dispute === undefined ? null : formatDispute(d.dispute),
    disputeKey: hex(d.disputeKey),
    settlements: d.settlements.map((s) => formatSlotSettlement(d.agreement, s, iv)),
    nextSlot: d.nextSlot ?? null,
  };
}

export function formatListedAgreement(l: ListedAgreement, settlementIntervalMs: number): AgreementJson & { indexKey: string } {
  return { ...formatAgreement(l.agreement, l.key, settlementIntervalMs), indexKey: hex(l.indexKey) };
}
