/**
 * JSON shapes of the bilateral agreements' RPC answers (docs/json-rpc.md Agreements), shared
 * by rpc/ and the CLI like core/market-json.ts. Amounts are decimal strings; ids, keys and
 * hashes 0x hex; times ms since the Unix epoch.
 */

export type PriceFormulaJson =
  | { kind: 'fixed'; price: string }
  | { kind: 'time-of-use'; table: string[] }
  | { kind: 'market'; premium: string; fallback: string };

export interface AgreementTermsJson {
  buyer: string;
  seller: string;
  deviceId: string;
  quantityWh: string;
  firstSlotMs: number;
  slots: number;
  price: PriceFormulaJson;
  collateralBps: number;
}

export interface AgreementJson {
  id: string;
  /** proposed, signed, collateralised, executing, disputed, settled, withdrawn, lapsed, liquidated */
  phase: string;
  proposer: 'buyer' | 'seller';
  zone: string;
  terms: AgreementTermsJson;
  /** The contract value, micro-units: ceil(sum of quantity x reference price / 1000). */
  contractValue: string;
  proposedAtMs: number;
  /** null until signed. */
  signedAtMs: number | null;
  coolingOffEndsMs: number | null;
  /** null until settled. */
  settledAtMs: number | null;
  disputeWindowEndsMs: number | null;
  /** Each party's posted collateral and the level it keeps (of the remaining value). */
  collateral: { buyer: string; seller: string; level: string };
  /** An open margin call's deadline per party, or null. */
  marginCall: { buyer: number | null; seller: number | null };
  /** Slots settled so far (the next slot to settle). */
  settledSlots: number;
  /** Unscaled: sum over the unsettled slots of quantity x reference price. */
  remainingValue: string;
  deliveredWh: string;
  paid: string;
  stateKey: string;
}

export interface DisputeJson {
  claimant: 'buyer' | 'seller';
  frozen: string;
  deposit: string;
  openedAtMs: number;
  /** The phase the agreement returns to when decided. */
  resume: string;
  votesBuyer: string[];
  votesSeller: string[];
  /** null while open. */
  decidedFor: 'buyer' | 'seller' | null;
  fee: string;
}

export interface SlotSettlementJson {
  slot: number;
  intervalStartMs: number;
  meteredWh: string;
  deliveredWh: string;
  price: string;
  payment: string;
  penalty: string;
  overCharge: string;
  /** The energy UTXO the buyer received; null when nothing was delivered. */
  utxo: string | null;
  height: number;
  stateKey: string;
}

export interface AgreementDetailJson extends AgreementJson {
  dispute: DisputeJson | null;
  disputeKey: string;
  settlements: SlotSettlementJson[];
  /** Pass back as fromSlot for more settlements; null when the list is complete. */
  nextSlot: number | null;
}

export interface AgreementListJson {
  agreements: (AgreementJson & { indexKey: string })[];
  nextCursor: string | null;
}
