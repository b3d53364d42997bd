import { concatBytes, readU64be, u32be, u64be, utf8 } from '../core/bytes.ts';
import { decode, encode, readAmount, readArray, readUint } from '../core/codec.ts';
import {
  decodeAgreement,
  decodeDispute,
  decodeSlotSettlement,
  decodeTimerRefs,
  encodeAgreement,
  encodeDispute,
  encodeSlotSettlement,
  encodeTimerRefs,
  TIMER_KINDS,
  type Agreement,
  type Dispute,
  type SlotSettlement,
  type TimerKind,
  type TimerRefs,
} from '../core/agreement.ts';
import { AgreementBucket, agreementBucketKey, agreementKey } from '../core/state-keys.ts';
import { firstEntries, type StateEntry, type StateOverlay, type StateReader } from './overlay.ts';

/**
 * Bilateral agreements' records (StatePrefix.agreement = 0x21, core/state-keys.ts AgreementBucket):
 *
 *   0x21 0x01 ++ id                                   -> Agreement
 *   0x21 0x02 ++ address ++ id                        -> 0x01 (an account's agreements)
 *   0x21 0x03 ++ u64be(due) ++ id ++ u8(kind) ++ u32be(slot) -> TimerRefs (the hook's queue)
 *   0x21 0x04 ++ id ++ u32be(slot)                    -> SlotSettlement
 *   0x21 0x05 ++ id                                   -> Dispute
 *   0x21 0x06 ++ u8(len) ++ deviceId ++ id            -> [firstSlotMs, slots, quantityWh] (executing)
 *   0x21 0x07 ++ u64be(interval) ++ u8(len) ++ deviceId -> Wh (what 0x06 scheduled in the interval, fixed once shared)
 */

export { agreementKey };

const PRESENT = new Uint8Array([1]);
const ID_LENGTH = 32;

export function getAgreement(state: StateReader, id: Uint8Array): Agreement | undefined {
  const raw = state.get(agreementKey(id));
  return raw === undefined ? undefined : decodeAgreement(raw);
}

export function putAgreement(state: StateOverlay, a: Agreement): void {
  state.set(agreementKey(a.id), encodeAgreement(a));
}

/** Writes a new agreement and both parties' index entries. */
export function createAgreement(state: StateOverlay, a: Agreement): void {
  putAgreement(state, a);
  state.set(agreementBucketKey(AgreementBucket.byAccount, a.buyer, a.id), PRESENT);
  state.set(agreementBucketKey(AgreementBucket.byAccount, a.seller, a.id), PRESENT);
}

export function accountAgreementsPrefix(address: Uint8Array): Uint8Array {
  return agreementBucketKey(AgreementBucket.byAccount, address);
}

// ---- timers ----

export const TIMER_PREFIX = agreementBucketKey(AgreementBucket.timer);

export interface Timer {
  readonly key: Uint8Array;
  readonly dueMs: number;
  readonly id: Uint8Array;
  readonly kind: TimerKind;
  readonly slot: number;
  readonly refs: TimerRefs;
}

export function timerKey(dueMs: number, id: Uint8Array, kind: TimerKind, slot: number): Uint8Array {
  return agreementBucketKey(AgreementBucket.timer, u64be(dueMs), id, new Uint8Array([TIMER_KINDS.indexOf(kind)]), u32be(slot));
}

/** Queues a timer; a slot timer names its interval (`intervalStartMs`), others pass 0. */
export function putTimer(state: StateOverlay, dueMs: number, a: Agreement, kind: TimerKind, slot: number, intervalStartMs = 0): void {
  const refs = { buyer: a.buyer, seller: a.seller, deviceId: a.deviceId, zone: a.zone, intervalStartMs };
  state.set(timerKey(dueMs, a.id, kind, slot), encodeTimerRefs(refs));
}

export function timerOf([key, value]: StateEntry): Timer {
  const kind = TIMER_KINDS[key[2 + 8 + ID_LENGTH]!];
  if (kind === undefined) throw new Error(`state/agreements: unknown timer kind in ${Buffer.from(key).toString('hex')}`);
  return {
    key,
    dueMs: readU64be(key, 2),
    id: key.subarray(10, 10 + ID_LENGTH),
    kind,
    slot: new DataView(key.buffer, key.byteOffset + 11 + ID_LENGTH, 4).getUint32(0),
    refs: decodeTimerRefs(value),
  };
}

// ---- slot settlements, disputes ----

export function slotSettlementKey(id: Uint8Array, slot: number): Uint8Array {
  return agreementBucketKey(AgreementBucket.slot, id, u32be(slot));
}

export function slotSettlementsPrefix(id: Uint8Array): Uint8Array {
  return agreementBucketKey(AgreementBucket.slot, id);
}

export function putSlotSettlement(state: StateOverlay, id: Uint8Array, s: SlotSettlement): void {
  state.set(slotSettlementKey(id, s.slot), encodeSlotSettlement(s));
}

export function getSlotSettlement(state: StateReader, id: Uint8Array, slot: number): SlotSettlement | undefined {
  const raw = state.get(slotSettlementKey(id, slot));
  return raw === undefined ? undefined : decodeSlotSettlement(raw);
}

export function disputeKey(id: Uint8Array): Uint8Array {
  return agreementBucketKey(AgreementBucket.dispute, id);
}

export function getDispute(state: StateReader, id: Uint8Array): Dispute | undefined {
  const raw = state.get(disputeKey(id));
  return raw === undefined ? undefined : decodeDispute(raw);
}

export function putDispute(state: StateOverlay, id: Uint8Array, d: Dispute): void {
  state.set(disputeKey(id), encodeDispute(d));
}

/** The agreement id at the end of an account index key. */
export function idOfIndexKey(key: Uint8Array): Uint8Array {
  return key.subarray(key.length - ID_LENGTH);
}

// ---- the agreements a device delivers ----

/** Every executing agreement the device delivers. */
export function deviceAgreementsPrefix(deviceId: string): Uint8Array {
  const id = utf8(deviceId);
  return agreementBucketKey(AgreementBucket.byDevice, concatBytes(new Uint8Array([id.length]), id));
}

const deviceAgreementKey = (a: Pick<Agreement, 'deviceId' | 'id'>) => concatBytes(deviceAgreementsPrefix(a.deviceId), a.id);

/** Listed from the agreement's start until its last slot settles or it is liquidated. */
export function putDeviceAgreement(state: StateOverlay, a: Agreement): void {
  state.set(deviceAgreementKey(a), encode([a.firstSlotMs, a.slots, a.quantityWh]));
}

export function deleteDeviceAgreement(state: StateOverlay, a: Agreement): void {
  state.delete(deviceAgreementKey(a));
}

/** How many agreements the device delivers now, counted up to `limit`. */
export function countDeviceAgreements(state: StateReader, deviceId: string, limit: number): number {
  return firstEntries(state, deviceAgreementsPrefix(deviceId), limit).length;
}

/** The Wh the device's executing agreements schedule in the interval starting at `intervalStartMs`. */
export function agreedWh(state: StateReader, deviceId: string, intervalStartMs: number, settlementIntervalMs: number): bigint {
  let sum = 0n;
  for (const [, value] of state.iterate(deviceAgreementsPrefix(deviceId))) {
    const f = readArray(decode(value, 'deviceAgreement'), 'deviceAgreement', 3);
    const first = readUint(f[0]!, 'deviceAgreement.firstSlotMs');
    const slots = readUint(f[1]!, 'deviceAgreement.slots');
    if (intervalStartMs >= first && intervalStartMs < first + slots * settlementIntervalMs) sum += readAmount(f[2]!, 'deviceAgreement.quantityWh');
  }
  return sum;
}

export function intervalAgreedKey(intervalStartMs: number, deviceId: string): Uint8Array {
  const id = utf8(deviceId);
  return agreementBucketKey(AgreementBucket.intervalAgreed, u64be(intervalStartMs), new Uint8Array([id.length]), id);
}

/**
 * agreedWh as the interval's over-delivery is shared: fixed (recorded, when not 0) by the
 * first settlement that shares it, the device's trades or one of its slots. An agreement
 * whose last slot settles, or that is liquidated, leaves the device's list while the
 * interval's other slots may still be to settle; measured against the shrunk list they
 * would count its energy as over-delivered, a second charge for it.
 */
export function sharedAgreedWh(state: StateOverlay, deviceId: string, intervalStartMs: number, settlementIntervalMs: number): bigint {
  const k = intervalAgreedKey(intervalStartMs, deviceId);
  const raw = state.get(k);
  if (raw !== undefined) return readAmount(decode(raw, 'intervalAgreed'), 'intervalAgreed');
  const wh = agreedWh(state, deviceId, intervalStartMs, settlementIntervalMs);
  if (wh > 0n) state.set(k, encode(wh));
  return wh;
}
