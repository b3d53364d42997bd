import type { SettlementJson } from './market-json.ts';

/**
 * JSON shapes of the reversal reads (docs/json-rpc.md Reversals), shared by rpc/ and the
 * CLI like core/market-json.ts. Amounts are decimal strings; ids and keys 0x hex.
 */

export interface ReversalJson {
  id: number;
  zone: string;
  intervalStartMs: number;
  seq: number;
  buyer: string;
  seller: string;
  reason: string;
  /** open (waiting for approvals) or executed */
  status: 'open' | 'executed';
  /** Governors in the order they approved, the proposer first. */
  approvers: string[];
  /** k: the approvals that execute it (null on a chain without governors). */
  threshold: number | null;
  proposedHeight: number;
  executedHeight: number | null;
  /** What the settlement moved, and (executed) what the reversal moved back. */
  settlement: SettlementJson | null;
  /** The energy UTXO the seller got back (executed, with energy delivered); null otherwise. */
  returnedUtxo: string | null;
  stateKey: string;
  idKey: string;
  settlementKey: string;
}

export interface GovernorsJson {
  threshold: number;
  governors: string[];
  stateKey: string;
}
