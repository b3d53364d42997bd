import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { deviceKeyAt, type DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { intervalOf, totalsOfOpen, type IntervalTotals, type MeterCursor } from '../../core/meter.ts';
import { READINGS_SKIPPED_EVENT, readingSigningBytes } from '../../core/telemetry.ts';
import { decodeTelemetryBatchBody, type TelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putDevice } from '../../state/devices.ts';
import type { StateReader } from '../../state/overlay.ts';
import { getMeterCursor, putCloseItem, putIntervalTotals, putMeterCursor } from '../../state/telemetry.ts';
import { requireOperatorRole } from '../devices/rules.ts';
import type { ChainContext, ExecContext, TxHandler, TxSignatureSet } from '../types.ts';
import { telemetryBatchKeys } from './access.ts';
import { readingAllowance } from './allowance.ts';
import {
  checkAfterCursor,
  checkBatchOrder,
  checkedHeight,
  checkReadingTime,
  deviceRefusal,
  firstReadings,
  notTheSenders,
  readingField,
  registeredDevice,
} from './rules.ts';

/**
 * Type 20, telemetry-batch: an aggregator's (or dso's) readings of the devices it operates,
 * under one aggregate BLS signature. Validity (vm/README.md "Telemetry"), whole: the
 * sender an operator, keyHeight at most the inclusion height, every device registered;
 * per device, timestamps strictly increasing within the batch and after its last reading
 * on chain; every timestamp within maxReadingSkewMs of the block's time and in an interval
 * not yet settled; the aggregate signature; and at least one device whose readings count
 * (entering the mempool, ChainContext.entering: every device the sender's).
 *
 * A device's readings count if it is active, operated by the sender and signing with its
 * key valid at the inclusion height (rules.ts deviceRefusal); the readings of a device that
 * is not are skipped, not the batch (event `telemetry-skipped` with the reason). Each of
 * those can change between admission and inclusion, and a batch holds hundreds of
 * devices: failing whole, one device suspended, re-keyed or flagged for missed data (a
 * moment a device that goes silent chooses) lost every other device's readings with it.
 *
 * Execution counts the readings into their (device, settlement interval) totals (the
 * device's open interval in its cursor: all a batch reads of a device is its record and
 * its cursor, both named by the body, so its access list needs no chain parameter). A
 * device with a reading carrying more energy than its power limits allow since its
 * previous reading (vm/telemetry/allowance.ts) has none of its readings in the batch
 * counted and is flagged for inspection (events `device-flagged` and `telemetry-skipped`,
 * reason TELEMETRY_IMPOSSIBLE_ENERGY); the other devices' readings count. That rule is
 * judged at execution, against the state the block has reached, never at admission: it
 * depends on the device's previous reading, which an earlier tx of the same block may have
 * moved.
 */

function validate(body: TelemetryBatchBody): void {
  checkBatchOrder(body.readings);
}

/** Each device of the batch (in order of its first reading) with why its readings cannot count, if they cannot. */
function devicesOf(
  state: StateReader,
  body: TelemetryBatchBody,
  tx: Tx,
  height: number,
): { device: DeviceRecord; first: number; refusal: JouleError | undefined }[] {
  return [...firstReadings(body.readings).values()].map((first) => {
    const device = registeredDevice(state, body, first);
    return { device, first, refusal: deviceRefusal(device, tx.from, body.keyHeight, height, readingField(first, 'deviceId')) };
  });
}

function checkState(state: StateReader, body: TelemetryBatchBody, tx: Tx, ctx: ChainContext): void {
  const height = checkedHeight(ctx);
  if (body.keyHeight > height) {
    throw new JouleError(
      ErrorCode.TX_INVALID_FIELD,
      `must not be above the height the batch is checked for (${height}): keys valid later are not settled yet`,
      'tx.body.keyHeight',
    );
  }
  requireOperatorRole(state, tx);
  const devices = devicesOf(state, body, tx, height);
  for (const { first, refusal } of devices) if (refusal === undefined) checkAfterCursor(state, body.readings[first]!, first);
  if (ctx.timestamp !== undefined) body.readings.forEach((r, i) => checkReadingTime(r, i, ctx.timestamp!, ctx.params));
  // A batch entering the pool names only the sender's devices: another's would hold their
  // places in the pool (its per-device bound) and count nothing.
  if (ctx.entering === true) {
    for (const { device, first } of devices) {
      const foreign = notTheSenders(device, tx.from, readingField(first, 'deviceId'));
      if (foreign !== undefined) throw foreign;
    }
  }
  // A batch none of whose readings could count is refused, with its first device's reason.
  if (devices.every((d) => d.refusal !== undefined)) throw devices[0]!.refusal!;
}

/**
 * One aggregate set: reading i's signing bytes under its device's key valid at keyHeight.
 * Those keys are history the chain can no longer change (keyHeight <= the checked
 * height), so the set is the same whenever and wherever it is formed.
 */
function signatureSets(body: TelemetryBatchBody, _tx: Tx, ctx: ChainContext, state: StateReader): TxSignatureSet[] {
  const keys = new Map<string, Uint8Array>();
  const publicKeys = body.readings.map((r, i) => {
    let key = keys.get(r.deviceId);
    if (key === undefined) {
      key = deviceKeyAt(registeredDevice(state, body, i), body.keyHeight);
      if (key === undefined)
        throw new JouleError(
          ErrorCode.TELEMETRY_KEY_ROTATED,
          `device ${JSON.stringify(r.deviceId)} has no key at height ${body.keyHeight}`,
          `tx.body.readings[${i}].deviceId`,
        );
      keys.set(r.deviceId, key);
    }
    return key;
  });
  return [
    {
      set: { kind: 'bls-aggregate', publicKeys, messages: body.readings.map((r) => readingSigningBytes(ctx.chainId, r)), signature: body.signature },
      field: 'tx.body.signature',
      message: `the aggregate signature does not verify for the batch's ${body.readings.length} readings under their devices' keys at height ${body.keyHeight} (a reading altered, or signed by another key; to find which, verify the readings' own signatures: joule telemetry submit does)`,
    },
  ];
}

const skippedEvent = (device: string, reason: string, readings: number): BlockEvent => ({
  type: READINGS_SKIPPED_EVENT,
  attributes: [
    ['device', device],
    ['reason', reason],
    ['readings', String(readings)],
  ],
});

/** What a batch does to one device whose readings count: its cursor, the intervals it closed and opened. */
interface DeviceEffects {
  readonly device: DeviceRecord;
  cursor: MeterCursor | undefined;
  /** Intervals a reading moved past: written out as records. */
  readonly rolled: IntervalTotals[];
  /** Intervals the batch opened: queued for their close. */
  readonly opened: number[];
}

function execute({ state, body, tx, block }: ExecContext<TelemetryBatchBody>): BlockEvent[] {
  const { params } = block;
  const events: BlockEvent[] = [];
  /** Devices whose readings count so far, in order of their first reading (the protocol's order). */
  const counting = new Map<string, DeviceEffects>();
  /** Devices skipped, with the reason (an ErrorCode). */
  const skipped = new Map<string, string>();
  for (const { device, refusal } of devicesOf(state, body, tx, block.height)) {
    if (refusal !== undefined) skipped.set(device.id, refusal.code);
    else counting.set(device.id, { device, cursor: getMeterCursor(state, device.id), rolled: [], opened: [] });
  }
  for (const r of body.readings) {
    const d = counting.get(r.deviceId);
    if (d === undefined) continue;
    const a = readingAllowance(d.cursor, r, d.device, params.settlementIntervalMs);
    if (!a.possible) {
      // None of the device's readings in the batch counts: it is flagged for inspection.
      counting.delete(r.deviceId);
      skipped.set(r.deviceId, ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY);
      putDevice(state, { ...d.device, status: 'flagged-for-inspection' }, d.device);
      events.push({
        type: 'device-flagged',
        attributes: [
          ['device', r.deviceId],
          ['reason', 'impossible-energy'],
          ['timestampUs', r.timestampUs.toString()],
          ['netEnergyWh', r.netEnergyWh.toString()],
          ['allowedWh', a.allowedWh.toString()],
        ],
      });
      continue;
    }
    const start = intervalOf(r.timestampUs, params.settlementIntervalMs);
    let open = a.cursor.open;
    if (open?.intervalStartMs !== start) {
      // Timestamps only move forward, so a reading in another interval is in a later one.
      if (open !== undefined) d.rolled.push(totalsOfOpen(r.deviceId, open));
      open = { intervalStartMs: start, readings: 0, importWh: 0n, exportWh: 0n };
      d.opened.push(start);
    }
    const wh = r.netEnergyWh;
    open = {
      ...open,
      readings: open.readings + 1,
      importWh: wh > 0n ? open.importWh + wh : open.importWh,
      exportWh: wh < 0n ? open.exportWh - wh : open.exportWh,
    };
    d.cursor = { ...a.cursor, open };
  }
  let intervals = 0;
  for (const [id, d] of counting) {
    putMeterCursor(state, id, d.cursor!);
    for (const t of d.rolled) putIntervalTotals(state, t);
    // An interval's first reading puts it on the close queue (replacing a missing-data watch).
    for (const start of d.opened) putCloseItem(state, start, id, { checkMeter: d.device.checkMeter, reported: true, kind: d.device.kind, zone: d.device.zone });
    intervals += d.opened.length;
  }
  const uncounted = new Map<string, number>();
  for (const r of body.readings) if (skipped.has(r.deviceId)) uncounted.set(r.deviceId, (uncounted.get(r.deviceId) ?? 0) + 1);
  for (const [id, reason] of skipped) events.push(skippedEvent(id, reason, uncounted.get(id)!));
  const readings = body.readings.length - [...uncounted.values()].reduce((a, b) => a + b, 0);
  events.push({
    type: 'telemetry',
    attributes: [
      ['readings', String(readings)],
      ['devices', String(counting.size)],
      ['intervals', String(intervals)],
      ['skipped', String(body.readings.length - readings)],
    ],
  });
  return events;
}

export const telemetryBatchHandler: TxHandler<TelemetryBatchBody> = {
  type: TxType.telemetryBatch,
  name: 'telemetry-batch',
  tier: 'grid_balancing',
  decodeBody: decodeTelemetryBatchBody,
  validate,
  signatureSets,
  spend: () => 0n,
  keys: telemetryBatchKeys,
  checkState,
  execute,
  describe: (body) => ({
    keyHeight: body.keyHeight,
    readings: body.readings.map((r) => ({
      deviceId: r.deviceId,
      timestampUs: r.timestampUs.toString(),
      netEnergyWh: r.netEnergyWh.toString(),
      stateOfChargePercent: r.stateOfChargePercent,
    })),
    signature: `0x${toHex(body.signature)}`,
  }),
};
