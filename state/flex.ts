import { concatBytes, readU64be, u64be, utf8 } from '../core/bytes.ts';
import { decode, encode, readArray, readBytes, readString, readUint } from '../core/codec.ts';
import { MAX_DEVICE_ID_LENGTH } from '../core/device.ts';
import {
  decodeCommandPayment,
  decodeFlexActivation,
  decodeFlexBid,
  decodeFlexIntervalResult,
  encodeCommandPayment,
  encodeFlexActivation,
  encodeFlexBid,
  encodeFlexIntervalResult,
  type CommandPayment,
  type FlexActivation,
  type FlexBid,
  type FlexIntervalResult,
} from '../core/flex.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { FlexBucket, flexActivationKey, flexBidKey, flexIntervalKey, flexKey } from '../core/state-keys.ts';
import type { StateEntry, StateOverlay, StateReader } from './overlay.ts';

/**
 * Flexibility's records (StatePrefix.flex = 0x22, core/state-keys.ts FlexBucket):
 *
 *   0x22 0x01 ++ bidId                          -> FlexBid
 *   0x22 0x02 ++ activationId                   -> FlexActivation
 *   0x22 0x03 ++ activationId ++ u64be(I)       -> FlexIntervalResult (how interval I settled)
 *   0x22 0x04 ++ u64be(due) ++ kind ++ id       -> QueueEntry (the settlement queue, by due time)
 *   0x22 0x05 ++ aggregator ++ bidId            -> 0x01 (an aggregator's bids)
 *   0x22 0x06 ++ bidId ++ u64be(start) ++ activationId -> 0x01 (a bid's activations)
 *   0x22 0x07 ++ commandHash ++ u64be(I) ++ deviceId   -> CommandPayment (a priced command's payments)
 *
 * Bid and activation ids are the hashes of the txs that made them.
 */

const PRESENT = new Uint8Array([1]);

export { flexActivationKey, flexBidKey, flexIntervalKey };
export const flexIntervalsPrefix = (activationId: Uint8Array): Uint8Array => flexKey(FlexBucket.interval, activationId);
export const bidsByAggregatorPrefix = (aggregator: Uint8Array): Uint8Array => flexKey(FlexBucket.bidByAggregator, aggregator);
export const activationsByBidPrefix = (bidId: Uint8Array): Uint8Array => flexKey(FlexBucket.activationByBid, bidId);
export const commandPaymentKey = (hash: Uint8Array, intervalStartMs: number, deviceId: string): Uint8Array =>
  flexKey(FlexBucket.commandPayment, hash, u64be(intervalStartMs), utf8(deviceId));
export const commandPaymentsPrefix = (hash: Uint8Array): Uint8Array => flexKey(FlexBucket.commandPayment, hash);
export const FLEX_QUEUE_PREFIX = flexKey(FlexBucket.queue);

// ---- bids ----

export function getFlexBid(state: StateReader, id: Uint8Array): FlexBid | undefined {
  const raw = state.get(flexBidKey(id));
  return raw === undefined ? undefined : decodeFlexBid(raw);
}

/** Writes a bid; `indexed` (its creation) adds it to its aggregator's list. */
export function putFlexBid(state: StateOverlay, id: Uint8Array, b: FlexBid, indexed = false): void {
  state.set(flexBidKey(id), encodeFlexBid(b));
  if (indexed) state.set(concatBytes(bidsByAggregatorPrefix(b.aggregator), id), PRESENT);
}

// ---- activations ----

export function getFlexActivation(state: StateReader, id: Uint8Array): FlexActivation | undefined {
  const raw = state.get(flexActivationKey(id));
  return raw === undefined ? undefined : decodeFlexActivation(raw);
}

/** Writes an activation; `indexed` (its creation) adds it to its bid's list. */
export function putFlexActivation(state: StateOverlay, id: Uint8Array, a: FlexActivation, indexed = false): void {
  state.set(flexActivationKey(id), encodeFlexActivation(a));
  if (indexed) state.set(concatBytes(activationsByBidPrefix(a.bidId), u64be(a.startMs), id), PRESENT);
}

export function getFlexIntervalResult(state: StateReader, activationId: Uint8Array, intervalStartMs: number): FlexIntervalResult | undefined {
  const raw = state.get(flexIntervalKey(activationId, intervalStartMs));
  return raw === undefined ? undefined : decodeFlexIntervalResult(raw);
}

export function putFlexIntervalResult(state: StateOverlay, activationId: Uint8Array, intervalStartMs: number, r: FlexIntervalResult): void {
  state.set(flexIntervalKey(activationId, intervalStartMs), encodeFlexIntervalResult(r));
}

export function getCommandPayment(state: StateReader, hash: Uint8Array, intervalStartMs: number, deviceId: string): CommandPayment | undefined {
  const raw = state.get(commandPaymentKey(hash, intervalStartMs, deviceId));
  return raw === undefined ? undefined : decodeCommandPayment(raw);
}

export function putCommandPayment(state: StateOverlay, hash: Uint8Array, intervalStartMs: number, deviceId: string, p: CommandPayment): void {
  state.set(commandPaymentKey(hash, intervalStartMs, deviceId), encodeCommandPayment(p));
}

// ---- the settlement queue ----

export const QUEUE_KINDS = ['deadline', 'interval', 'command'] as const;
/** deadline: an activation's confirmation deadline; interval: one interval of a confirmed activation; command: one interval of a priced command. */
export type QueueKind = (typeof QUEUE_KINDS)[number];

/**
 * What the settlement hook does at `dueMs`, with everything its reads depend on, so the
 * hook's access list follows from the queue alone (vm/flex/settlement.ts): the interval,
 * who pays (the dso, the command's issuer), who is paid (the aggregator; for a command
 * each target's owner, as when it was anchored) and the devices metered.
 */
export interface QueueEntry {
  readonly dueMs: number;
  readonly kind: QueueKind;
  /** The activation id, or the command hash. */
  readonly id: Uint8Array;
  readonly intervalStartMs: number;
  readonly payer: Uint8Array;
  /** The aggregator (activations); undefined for commands, which pay each device's owner. */
  readonly payee: Uint8Array | undefined;
  readonly deviceIds: readonly string[];
  /** Commands: the owner of each device, in deviceIds order; empty for activations. */
  readonly owners: readonly Uint8Array[];
}

export function queueKey(e: Pick<QueueEntry, 'dueMs' | 'kind' | 'id'>): Uint8Array {
  return flexKey(FlexBucket.queue, u64be(e.dueMs), new Uint8Array([QUEUE_KINDS.indexOf(e.kind)]), e.id);
}

export function putQueueEntry(state: StateOverlay, e: QueueEntry): void {
  state.set(queueKey(e), encode([e.intervalStartMs, e.payer, e.payee ?? null, [...e.deviceIds], [...e.owners]]));
}

export function deleteQueueEntry(state: StateOverlay, e: QueueEntry): void {
  state.delete(queueKey(e));
}

export function queueEntryOf([key, value]: StateEntry): QueueEntry {
  const o = FLEX_QUEUE_PREFIX.length;
  const kind = QUEUE_KINDS[key[o + 8]!];
  if (kind === undefined) throw new Error(`state/flex: unknown queue entry kind ${key[o + 8]}`);
  const f = readArray(decode(value, 'flexQueue'), 'flexQueue', 5);
  return {
    dueMs: readU64be(key, o),
    kind,
    id: key.subarray(o + 9),
    intervalStartMs: readUint(f[0]!, 'flexQueue.intervalStartMs'),
    payer: readBytes(f[1]!, 'flexQueue.payer', ADDRESS_LENGTH),
    payee: f[2] === null ? undefined : readBytes(f[2]!, 'flexQueue.payee', ADDRESS_LENGTH),
    deviceIds: readArray(f[3]!, 'flexQueue.deviceIds').map((v, i) => readString(v, `flexQueue.deviceIds[${i}]`, MAX_DEVICE_ID_LENGTH)),
    owners: readArray(f[4]!, 'flexQueue.owners').map((v, i) => readBytes(v, `flexQueue.owners[${i}]`, ADDRESS_LENGTH)),
  };
}
