import { decodeAgreement, decodeDispute, decodeSlotSettlement } from '../core/agreement.ts';
import type { AccountAgreementsQuery, AgreementDetail, AgreementPage, AgreementQuery } from '../core/agreement-query.ts';
import { compareBytes, concatBytes } from '../core/bytes.ts';
import { accountAgreementsPrefix, agreementKey, disputeKey, idOfIndexKey, slotSettlementKey } from './agreements.ts';
import type { LoadableReader } from './energy-lists.ts';

/**
 * Bilateral agreements for RPC, each loaded before it is read (so a LoadedState in strict
 * mode proves a read touches only what it loaded): one agreement with its dispute and a
 * bounded run of its slot settlements (slots settle in order, so slots below the record's
 * nextSlot are exactly the settled ones: their keys are known without a range read), and
 * a page of an account's agreements through its index (the cursor entry, `limit` entries
 * and one more, then the records they name). The cursor is the last listed id.
 */

export async function loadAndGetAgreement(view: LoadableReader, q: AgreementQuery, settlementIntervalMs: number): Promise<AgreementDetail | undefined> {
  const key = agreementKey(q.id);
  const dKey = disputeKey(q.id);
  await view.load({ keys: [key, dKey] });
  const raw = view.get(key);
  if (raw === undefined) return undefined;
  const agreement = decodeAgreement(raw);
  const end = Math.min(agreement.nextSlot, q.fromSlot + q.limit);
  const keys: Uint8Array[] = [];
  for (let s = q.fromSlot; s < end; s++) keys.push(slotSettlementKey(q.id, s));
  await view.load({ keys });
  const settlements = keys.flatMap((k) => {
    const v = view.get(k);
    return v === undefined ? [] : [{ settlement: decodeSlotSettlement(v), key: k }];
  });
  const d = view.get(dKey);
  return {
    agreement,
    key,
    dispute: d === undefined ? undefined : decodeDispute(d),
    disputeKey: dKey,
    settlements,
    nextSlot: end < agreement.nextSlot ? end : undefined,
    settlementIntervalMs,
  };
}

/** An account's agreements as buyer or seller, by id. */
export async function loadAndListAccountAgreements(view: LoadableReader, q: AccountAgreementsQuery, settlementIntervalMs: number): Promise<AgreementPage> {
  const prefix = accountAgreementsPrefix(q.account);
  const from = q.after === undefined ? undefined : concatBytes(prefix, q.after);
  await view.load({ ranges: [from === undefined ? { prefix, limit: q.limit + 2 } : { prefix, from, limit: q.limit + 2 }] });
  const indexKeys: Uint8Array[] = [];
  let more = false;
  for (const [k] of view.iterate(prefix, from)) {
    if (q.after !== undefined && compareBytes(k.subarray(prefix.length), q.after) <= 0) continue;
    if (indexKeys.length === q.limit) {
      more = true;
      break;
    }
    indexKeys.push(k);
  }
  await view.load({ keys: indexKeys.map((k) => agreementKey(idOfIndexKey(k))) });
  const agreements = indexKeys.map((indexKey) => {
    const key = agreementKey(idOfIndexKey(indexKey));
    const raw = view.get(key);
    // An index entry without its agreement is corrupt state: say so rather than skip it.
    if (raw === undefined) throw new Error(`state/agreement-lists: an index entry without its agreement (${Buffer.from(indexKey).toString('hex')})`);
    return { agreement: decodeAgreement(raw), key, indexKey };
  });
  return { agreements, next: more ? idOfIndexKey(indexKeys[indexKeys.length - 1]!) : undefined, settlementIntervalMs };
}
