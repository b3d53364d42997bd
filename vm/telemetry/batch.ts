import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { deviceKeyAt, type DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { intervalOf, totalsOfOpen, type IntervalTotals, type MeterCursor } from '../../core/meter.ts';
import { readingSigningBytes } from '../../core/telemetry.ts';
import { decodeTelemetryBatchBody, type TelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { getDevice, putDevice } from '../../state/devices.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import { getMeterCursor, putCloseItem, putIntervalTotals, putMeterCursor } from '../../state/telemetry.ts';
import { requireOperatorRole } from '../devices/rules.ts';
import { FailureWithEffects } from '../failure.ts';
import type { ChainContext, ExecContext, TxHandler, TxSignatureSet } from '../types.ts';
import { telemetryBatchKeys } from './access.ts';
import { readingAllowance } from './allowance.ts';
import { checkAfterCursor, checkBatchOrder, checkDevice, checkedHeight, checkReadingTime, firstReadings } from './rules.ts';

/**
 * Type 20, telemetry-batch: an aggregator's (or dso's) readings of the devices it operates,
 * under one aggregate BLS signature. Validity (vm/README.md "Telemetry"): every device
 * registered, active, operated by the sender, signing with its key valid at the inclusion
 * height; per device, timestamps strictly increasing within the batch and after its last
 * reading on chain; every timestamp within maxReadingSkewMs of the block's time and in an
 * interval not yet settled; the aggregate signature.
 *
 * Execution counts the readings into their (device, settlement interval) totals (the
 * device's open interval in its cursor: all a batch reads of a device is its record and its
 * cursor, both named by the body, so its access list needs no chain parameter), or, if
 * any reading carries more energy than its device's power limits allow since its previous
 * reading (vm/telemetry/allowance.ts), counts none of them: the tx fails with
 * TELEMETRY_IMPOSSIBLE_ENERGY naming the first such reading, and its one kept effect
 * (vm/failure.ts) flags each such device for inspection. That rule is judged at execution,
 * against the state the block has reached, never at admission: it depends on the device's
 * previous reading, which an earlier tx of the same block may have moved, and the flag
 * must land on chain to mean anything. So a batch with an impossible reading is admitted,
 * included, pays its fee, and flags.
 */

function validate(body: TelemetryBatchBody): void {
  checkBatchOrder(body.readings);
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
  for (const i of firstReadings(body.readings).values()) {
    checkDevice(state, tx, body, i, height);
    checkAfterCursor(state, body.readings[i]!, i);
  }
  if (ctx.timestamp !== undefined) body.readings.forEach((r, i) => checkReadingTime(r, i, ctx.timestamp!, ctx.params));
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
      const d = getDevice(state, r.deviceId);
      if (d === undefined)
        throw new JouleError(ErrorCode.DEVICE_UNKNOWN, `no device ${JSON.stringify(r.deviceId)} is registered`, `tx.body.readings[${i}].deviceId`);
      key = deviceKeyAt(d, body.keyHeight);
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

interface Impossible {
  readonly index: number;
  readonly device: DeviceRecord;
  readonly allowedWh: bigint;
}

function flagEffects(body: TelemetryBatchBody, impossible: readonly Impossible[]): (state: StateOverlay) => BlockEvent[] {
  return (state) =>
    impossible.map(({ index, device, allowedWh }) => {
      const r = body.readings[index]!;
      const current = getDevice(state, device.id)!;
      if (current.status === 'active') putDevice(state, { ...current, status: 'flagged-for-inspection' }, current);
      return {
        type: 'device-flagged',
        attributes: [
          ['device', device.id],
          ['reason', 'impossible-energy'],
          ['timestampUs', r.timestampUs.toString()],
          ['netEnergyWh', r.netEnergyWh.toString()],
          ['allowedWh', allowedWh.toString()],
        ],
      };
    });
}

function execute({ state, body, block }: ExecContext<TelemetryBatchBody>): BlockEvent[] {
  const { params } = block;
  const devices = new Map<string, DeviceRecord>();
  const cursors = new Map<string, MeterCursor | undefined>();
  /** Intervals a reading of the batch moved past: written out as records. */
  const rolled: IntervalTotals[] = [];
  /** (interval, device) opened by the batch: queued for their close. */
  const opened: { intervalStartMs: number; deviceId: string }[] = [];
  const impossible: Impossible[] = [];
  const flagged = new Set<string>();
  body.readings.forEach((r, i) => {
    let device = devices.get(r.deviceId);
    if (device === undefined) {
      device = getDevice(state, r.deviceId)!;
      devices.set(r.deviceId, device);
      cursors.set(r.deviceId, getMeterCursor(state, r.deviceId));
    }
    if (flagged.has(r.deviceId)) return;
    const a = readingAllowance(cursors.get(r.deviceId), r, device, params.settlementIntervalMs);
    if (!a.possible) {
      impossible.push({ index: i, device, allowedWh: a.allowedWh });
      flagged.add(r.deviceId);
      return;
    }
    const start = intervalOf(r.timestampUs, params.settlementIntervalMs);
    let open = a.cursor.open;
    if (open?.intervalStartMs !== start) {
      // Timestamps only move forward, so a reading in another interval is in a later one.
      if (open !== undefined) rolled.push(totalsOfOpen(r.deviceId, open));
      open = { intervalStartMs: start, readings: 0, importWh: 0n, exportWh: 0n };
      opened.push({ intervalStartMs: start, deviceId: r.deviceId });
    }
    const wh = r.netEnergyWh;
    open = {
      ...open,
      readings: open.readings + 1,
      importWh: wh > 0n ? open.importWh + wh : open.importWh,
      exportWh: wh < 0n ? open.exportWh - wh : open.exportWh,
    };
    cursors.set(r.deviceId, { ...a.cursor, open });
  });
  if (impossible.length > 0) {
    const first = impossible[0]!;
    const r = body.readings[first.index]!;
    throw new FailureWithEffects(
      ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY,
      `device ${JSON.stringify(r.deviceId)}: ${r.netEnergyWh} Wh at ${r.timestampUs} is more than its power limits allow since its previous reading (${first.allowedWh} Wh); no reading of the batch counts, and ${impossible.length === 1 ? 'the device is' : `${impossible.length} devices are`} flagged for inspection`,
      `tx.body.readings[${first.index}].netEnergyWh`,
      flagEffects(body, impossible),
    );
  }
  for (const [id, c] of cursors) putMeterCursor(state, id, c!);
  for (const t of rolled) putIntervalTotals(state, t);
  // An interval's first reading puts it on the close queue (replacing a missing-data watch).
  for (const o of opened) {
    const d = devices.get(o.deviceId)!;
    putCloseItem(state, o.intervalStartMs, o.deviceId, { checkMeter: d.checkMeter, reported: true, kind: d.kind, zone: d.zone });
  }
  return [
    {
      type: 'telemetry',
      attributes: [
        ['readings', String(body.readings.length)],
        ['devices', String(devices.size)],
        ['intervals', String(opened.length)],
      ],
    },
  ];
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
