import type { Agreement, Dispute, SlotSettlement } from './agreement.ts';

/**
 * What the RPC layer asks of a node about bilateral agreements (rpc/node-api.ts) and what a
 * node answers (state/agreement-lists.ts): one agreement with a bounded run of its slot
 * settlements, and bounded pages of an account's agreements with an opaque cursor (the
 * last listed agreement id). Every record comes with its state key.
 */

/** Most slot settlements or agreements one answer holds (and the default). */
export const MAX_AGREEMENT_PAGE = 100;

export interface AgreementQuery {
  readonly id: Uint8Array;
  /** The first slot whose settlement to include. */
  readonly fromSlot: number;
  /** At most this many settlements (1..MAX_AGREEMENT_PAGE). */
  readonly limit: number;
}

export interface ListedSlotSettlement {
  readonly settlement: SlotSettlement;
  readonly key: Uint8Array;
}

export interface AgreementDetail {
  readonly agreement: Agreement;
  readonly key: Uint8Array;
  /** undefined: no dispute was ever raised. */
  readonly dispute: Dispute | undefined;
  readonly disputeKey: Uint8Array;
  /** Settlements of slots fromSlot.. in slot order (every slot before agreement.nextSlot settled). */
  readonly settlements: readonly ListedSlotSettlement[];
  /** The slot to continue from; undefined when every settled slot from fromSlot is listed. */
  readonly nextSlot: number | undefined;
  /** The chain's settlement interval: slot k starts at firstSlotMs + k x this. */
  readonly settlementIntervalMs: number;
}

export interface AccountAgreementsQuery {
  readonly account: Uint8Array;
  readonly limit: number;
  /** List ids after this one (the previous page's cursor). */
  readonly after?: Uint8Array;
}

export interface ListedAgreement {
  readonly agreement: Agreement;
  readonly key: Uint8Array;
  /** The account index entry that listed it. */
  readonly indexKey: Uint8Array;
}

export interface AgreementPage {
  readonly agreements: readonly ListedAgreement[];
  readonly next: Uint8Array | undefined;
  /** The chain's settlement interval (what values a schedule by its slots' hours). */
  readonly settlementIntervalMs: number;
}
