import type { Agreement, Dispute, SlotSettlement } from '../../core/agreement.ts';
import type { AgreementDetail, ListedAgreement } from '../../core/agreement-query.ts';
import { AgreementBucket, agreementBucketKey, agreementKey } from '../../core/state-keys.ts';
import { buyer, INTERVAL, seller } from './market-fixtures.ts';

/**
 * One disputed agreement as the agreement reads of rpc/ and the `joule agreement` commands
 * are tested with: the seller (pv-0, NL) sells the buyer 1,000 Wh in each of 3 slots of
 * 15 minutes from INTERVAL at 200,000 per kWh with 15 % collateral; slot 0 delivered 1,000
 * Wh, slot 1 600 Wh; the buyer disputes 50,000 against the seller, one validator voted.
 */
export { buyer, seller };
export const AGREEMENT_INTERVAL_MS = 900_000;
export const agreementId = new Uint8Array(32).fill(0xa1);
export const validatorAddress = new Uint8Array(20).fill(9);

export const disputedAgreement: Agreement = {
  id: agreementId,
  buyer,
  seller,
  proposer: 'seller',
  deviceId: 'pv-0',
  zone: 'NL',
  quantityWh: 1000n,
  firstSlotMs: INTERVAL,
  slots: 3,
  price: { kind: 'fixed', price: 200_000n },
  collateralBps: 1500,
  phase: 'disputed',
  proposedAtMs: INTERVAL - 3_600_000,
  signedAtMs: INTERVAL - 3_000_000,
  settledAtMs: 0,
  buyerCollateral: 90_000n,
  sellerCollateral: 36_000n,
  nextSlot: 2,
  remainingValue: 200_000_000n,
  buyerCallMs: 0,
  sellerCallMs: INTERVAL + 3_600_000,
  deliveredWh: 1600n,
  paid: 320_000n,
};

export const openDispute: Dispute = {
  claimant: 'buyer',
  frozen: 50_000n,
  deposit: 500n,
  openedAtMs: INTERVAL + 2_000_000,
  resume: 'executing',
  votesBuyer: [validatorAddress],
  votesSeller: [],
  decidedFor: undefined,
  fee: 0n,
};

const settlement = (slot: number, deliveredWh: bigint, payment: bigint, penalty: bigint, utxo: boolean): SlotSettlement => ({
  slot,
  meteredWh: deliveredWh,
  deliveredWh,
  price: 200_000n,
  payment,
  penalty,
  overCharge: 0n,
  utxoId: utxo ? new Uint8Array(32).fill(0xe0 + slot) : undefined,
  height: 20 + slot,
});

export const slotSettlements: readonly SlotSettlement[] = [settlement(0, 1000n, 200_000n, 0n, true), settlement(1, 600n, 120_000n, 4_000n, true)];

const slotKey = (slot: number) => agreementBucketKey(AgreementBucket.slot, agreementId, new Uint8Array([0, 0, 0, slot]));

export function agreementDetail(fromSlot = 0, limit = 100): AgreementDetail {
  const end = Math.min(disputedAgreement.nextSlot, fromSlot + limit);
  return {
    agreement: disputedAgreement,
    key: agreementKey(agreementId),
    dispute: openDispute,
    disputeKey: agreementBucketKey(AgreementBucket.dispute, agreementId),
    settlements: slotSettlements.slice(fromSlot, end).map((s) => ({ settlement: s, key: slotKey(s.slot) })),
    nextSlot: end < disputedAgreement.nextSlot ? end : undefined,
    settlementIntervalMs: AGREEMENT_INTERVAL_MS,
  };
}

export const listedAgreement: ListedAgreement = {
  agreement: disputedAgreement,
  key: agreementKey(agreementId),
  indexKey: agreementBucketKey(AgreementBucket.byAccount, seller, agreementId),
};
