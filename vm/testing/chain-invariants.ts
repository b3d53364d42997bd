/**
 * The invariants of the whole-VM test (vm/chain.property.test.ts; not used by the node),
 * each stated from the protocol (docs/protocol.md), not from the handlers: what the state
 * must show after any block, whatever the txs.
 */
import { decodeAgreement, decodeDispute } from '../../core/agreement.ts';
import { toHex } from '../../core/bytes.ts';
import { decodeCertificate, decodeEnergyUtxo, type EnergyProvenance } from '../../core/energy.ts';
import { decodeFlexActivation } from '../../core/flex.ts';
import { decodeBookOrder, decodeHeld, decodeMarket, isPriced } from '../../core/market.ts';
import { decodeIntervalTotals } from '../../core/meter.ts';
import {
  AgreementBucket,
  agreementBucketKey,
  EnergyBucket,
  FlexBucket,
  flexKey,
  MarketBucket,
  marketBucketKey,
  StatePrefix,
  TelemetryBucket,
} from '../../core/state-keys.ts';
import { decodeAccount } from '../../state/accounts.ts';
import { CERTIFICATE_RECORDS_PREFIX, UTXO_RECORDS_PREFIX } from '../../state/energy.ts';
import type { StateReader } from '../../state/overlay.ts';

const ACCOUNTS = new Uint8Array([StatePrefix.account]);
const TOTALS = new Uint8Array([StatePrefix.telemetry, TelemetryBucket.totals]);
const hex = toHex;

/** Balance + locked over every account in the state; throws (decoding) on a negative amount. */
export function totalMoney(state: StateReader): bigint {
  let sum = 0n;
  for (const [, v] of state.iterate(ACCOUNTS)) {
    const a = decodeAccount(v);
    sum += a.balance + a.locked;
  }
  return sum;
}

/** Money minted (+) and burnt (-) by the block's successful currency txs: the only txs that change the total. */
export function issuedBy(
  receipts: readonly { success: boolean; events: readonly { type: string; attributes: readonly (readonly [string, string])[] }[] }[],
): bigint {
  let d = 0n;
  for (const r of receipts) {
    if (!r.success) continue;
    for (const e of r.events) {
      const amount = e.attributes.find(([k]) => k === 'amount')?.[1];
      if (e.type === 'currency-mint') d += BigInt(amount!);
      if (e.type === 'currency-burn') d -= BigInt(amount!);
    }
  }
  return d;
}

function add(m: Map<string, bigint>, who: Uint8Array, amount: bigint): void {
  m.set(hex(who), (m.get(hex(who)) ?? 0n) + amount);
}

/**
 * What each account's locked funds must be, from the records that lock them: open orders'
 * escrow and collateral, escrow and collateral held for settlement, agreement collateral,
 * what open disputes froze and their deposits, flex escrow.
 */
export function lockedByRecords(state: StateReader): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const bucket of [MarketBucket.bids, MarketBucket.asks])
    for (const [, v] of state.iterate(marketBucketKey(bucket))) add(m, decodeBookOrder(v).owner, decodeBookOrder(v).locked);
  for (const bucket of [MarketBucket.escrow, MarketBucket.collateral])
    for (const [, v] of state.iterate(marketBucketKey(bucket))) add(m, decodeHeld(v).owner, decodeHeld(v).amount);
  const agreements = agreementBucketKey(AgreementBucket.record);
  for (const [, v] of state.iterate(agreements)) {
    const a = decodeAgreement(v);
    add(m, a.buyer, a.buyerCollateral);
    add(m, a.seller, a.sellerCollateral);
  }
  const disputes = agreementBucketKey(AgreementBucket.dispute);
  for (const [k, v] of state.iterate(disputes)) {
    const d = decodeDispute(v);
    if (d.decidedFor !== undefined) continue;
    const raw = state.get(agreementBucketKey(AgreementBucket.record, k.subarray(disputes.length)));
    if (raw === undefined) continue; // reported by structureProblems
    const a = decodeAgreement(raw);
    const [claimant, respondent] = d.claimant === 'buyer' ? [a.buyer, a.seller] : [a.seller, a.buyer];
    add(m, claimant, d.deposit);
    add(m, respondent, d.frozen);
  }
  for (const [, v] of state.iterate(flexKey(FlexBucket.activation))) add(m, decodeFlexActivation(v).dso, decodeFlexActivation(v).escrow);
  return m;
}

/** Accounts whose locked funds differ from what the records lock. */
export function lockedProblems(state: StateReader): string[] {
  const expected = lockedByRecords(state);
  const out: string[] = [];
  for (const [k, v] of state.iterate(ACCOUNTS)) {
    const who = hex(k.subarray(1));
    const locked = decodeAccount(v).locked;
    const want = expected.get(who) ?? 0n;
    expected.delete(who);
    if (locked !== want) out.push(`account ${who} locks ${locked}, its records ${want}`);
  }
  for (const [who, want] of expected) if (want !== 0n) out.push(`records lock ${want} of ${who}, which has no account`);
  return out;
}

const provenanceKey = (p: Pick<EnergyProvenance, 'deviceId' | 'intervalStartMs'>) => `${p.deviceId}@${p.intervalStartMs}`;

/**
 * Records in `minted` what each closed interval minted, as its totals say (the close's net
 * export, or the check-meter resolution's accepted value): call after every block, before
 * totals INTERVAL_TOTALS_KEPT intervals old are deleted.
 */
export function recordMinted(state: StateReader, minted: Map<string, bigint>): void {
  for (const [k, v] of state.iterate(TOTALS)) {
    const len = k[2]!;
    const deviceId = Buffer.from(k.subarray(3, 3 + len)).toString('latin1');
    const intervalStartMs = Number(new DataView(k.buffer, k.byteOffset + 3 + len, 8).getBigUint64(0));
    const t = decodeIntervalTotals(v, deviceId, intervalStartMs);
    if (t.mintedWh !== undefined && t.status !== 'open') minted.set(provenanceKey(t), t.mintedWh);
  }
}

/** Per provenance, unspent (held for settlement included: it is the seller's UTXO) + retired = minted. */
export function energyProblems(state: StateReader, minted: ReadonlyMap<string, bigint>): string[] {
  const held = new Map<string, bigint>();
  for (const [, v] of state.iterate(UTXO_RECORDS_PREFIX)) {
    const u = decodeEnergyUtxo(v);
    held.set(provenanceKey(u.provenance), (held.get(provenanceKey(u.provenance)) ?? 0n) + u.wh);
  }
  for (const [, v] of state.iterate(CERTIFICATE_RECORDS_PREFIX)) {
    const c = decodeCertificate(v);
    held.set(provenanceKey(c.provenance), (held.get(provenanceKey(c.provenance)) ?? 0n) + c.wh);
  }
  const out: string[] = [];
  for (const p of new Set([...held.keys(), ...minted.keys()])) {
    if ((held.get(p) ?? 0n) !== (minted.get(p) ?? 0n))
      out.push(`provenance ${p}: ${held.get(p) ?? 0n} Wh unspent or retired, ${minted.get(p) ?? 'none'} minted`);
  }
  return out;
}

/** Records that name records gone, indexes out of step with their records, orders left in a cleared market. */
export function structureProblems(state: StateReader): string[] {
  const out: string[] = [];
  const has = (k: Uint8Array) => state.get(k) !== undefined;
  for (const side of [MarketBucket.bids, MarketBucket.asks]) {
    const prefix = marketBucketKey(side);
    for (const [k] of state.iterate(prefix)) {
      const id = k.subarray(prefix.length);
      const m = id.subarray(0, 9 + id[8]!);
      const raw = state.get(marketBucketKey(MarketBucket.market, m));
      const status = raw === undefined ? 'missing' : decodeMarket(raw).status;
      if (status === 'cleared' || status === 'missing') out.push(`order ${hex(id)} is in the book of a market ${status}`);
    }
  }
  // Until it is priced, a market's counts are its books' sizes: what the clearing loads of them.
  for (const [k, v] of state.iterate(marketBucketKey(MarketBucket.market))) {
    const mk = decodeMarket(v);
    if (isPriced(mk)) continue;
    const m = k.subarray(2);
    const [bids, asks] = [MarketBucket.bids, MarketBucket.asks].map((side) => [...state.iterate(marketBucketKey(side, m))].length);
    if (bids !== mk.bids || asks !== mk.asks) out.push(`market ${hex(m)} counts ${mk.bids} bids and ${mk.asks} asks, its books hold ${bids} and ${asks}`);
  }
  const byOwner = new Uint8Array([StatePrefix.energyUtxo, EnergyBucket.utxoByOwner]);
  const indexed = new Set<string>();
  for (const [k] of state.iterate(byOwner)) {
    const owner = k.subarray(2, 22);
    const id = k.subarray(22);
    indexed.add(hex(id));
    const raw = state.get(new Uint8Array([...UTXO_RECORDS_PREFIX, ...id]));
    if (raw === undefined || hex(decodeEnergyUtxo(raw).owner) !== hex(owner)) out.push(`owner index names UTXO ${hex(id)}, not ${hex(owner)}'s`);
  }
  for (const [, v] of state.iterate(UTXO_RECORDS_PREFIX))
    if (!indexed.has(hex(decodeEnergyUtxo(v).id))) out.push(`UTXO ${hex(decodeEnergyUtxo(v).id)} is not in its owner's index`);
  const tradesOf = marketBucketKey(MarketBucket.tradeByAccount);
  for (const [k] of state.iterate(tradesOf)) {
    if (!has(marketBucketKey(MarketBucket.trade, k.subarray(tradesOf.length + 20)))) out.push(`account trade index names a trade gone: ${hex(k)}`);
  }
  const agreementsOf = agreementBucketKey(AgreementBucket.byAccount);
  for (const [k] of state.iterate(agreementsOf)) {
    if (!has(agreementBucketKey(AgreementBucket.record, k.subarray(agreementsOf.length + 20))))
      out.push(`account agreement index names an agreement gone: ${hex(k)}`);
  }
  const disputes = agreementBucketKey(AgreementBucket.dispute);
  for (const [k] of state.iterate(disputes)) {
    if (!has(agreementBucketKey(AgreementBucket.record, k.subarray(disputes.length)))) out.push(`dispute of an agreement gone: ${hex(k)}`);
  }
  const bidsOf = flexKey(FlexBucket.bidByAggregator);
  for (const [k] of state.iterate(bidsOf))
    if (!has(flexKey(FlexBucket.bid, k.subarray(bidsOf.length + 20)))) out.push(`aggregator index names a bid gone: ${hex(k)}`);
  const activationsOf = flexKey(FlexBucket.activationByBid);
  for (const [k] of state.iterate(activationsOf)) {
    const rest = k.subarray(activationsOf.length);
    if (!has(flexKey(FlexBucket.bid, rest.subarray(0, 32)))) out.push(`activation index names a bid gone: ${hex(k)}`);
    if (!has(flexKey(FlexBucket.activation, rest.subarray(40)))) out.push(`activation index names an activation gone: ${hex(k)}`);
  }
  return out;
}
