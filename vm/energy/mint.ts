import type { DeviceRecord } from '../../core/device.ts';
import { checkWh, isStorageKind, MAX_ENERGY_WH, mintedUtxoId, type EnergyProvenance, type EnergyUtxo } from '../../core/energy.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import {
  deleteUtxo,
  getStorageCarbon,
  getUtxo,
  GRID_INTENSITY_LATEST_PREFIX,
  gridIntensityIntervalPrefix,
  putStorageCarbon,
  putUtxo,
  STORAGE_CARBON_PREFIX,
  storageCarbonKey,
} from '../../state/energy.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import { charge, discharge, gridIntensityAt, gridIntensityReadKeys } from './storage-carbon.ts';

/**
 * Minting: metered export becomes energy UTXOs, exactly once per (device, interval). The
 * interval-close end-of-block hook (telemetry) calls mintMeteredInterval for each device's
 * closed interval; check-meter resolution (tx 27) calls unfreezeInterval. Both are
 * deterministic and do no I/O: they read and write `world` only.
 */

/** One device's metered totals for one closed settlement interval. */
export interface MeteredInterval {
  deviceId: string;
  intervalStartMs: number;
  intervalEndMs: number;
  /** Wh drawn from the grid in the interval (>= 0). */
  importWh: bigint;
  /** Wh fed to the grid in the interval (>= 0): what is minted. */
  exportWh: bigint;
  /** The device and its check meter disagree beyond the accuracy threshold: mint frozen. */
  frozen: boolean;
}

const bug = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, field);

function checkInterval(device: DeviceRecord, m: MeteredInterval): void {
  if (m.deviceId !== device.id) throw bug('interval.deviceId', `is ${JSON.stringify(m.deviceId)}, the record is ${JSON.stringify(device.id)}`);
  if (!Number.isSafeInteger(m.intervalStartMs) || m.intervalStartMs < 0) throw bug('interval.intervalStartMs', 'must be a non-negative integer');
  if (!Number.isSafeInteger(m.intervalEndMs) || m.intervalEndMs <= m.intervalStartMs)
    throw bug('interval.intervalEndMs', 'must be an integer after intervalStartMs');
  checkWh(m.importWh, 'interval.importWh', true);
  checkWh(m.exportWh, 'interval.exportWh', true);
}

/**
 * Called once per (device, closed interval) by the close hook, in ascending
 * (intervalStart, deviceId) order: records the device's storage-carbon state from importWh
 * (battery / ev-charger) and mints exportWh (if > 0) as one UTXO to the device owner,
 * frozen if `frozen`. Returns the minted UTXO id or undefined. Deterministic, no I/O.
 *
 * A frozen interval mints a UTXO even of 0 Wh (the device may have reported nothing the
 * check meter saw exported): it holds the interval's provenance until the resolution
 * (unfreezeInterval) sets its Wh. The id is core/energy.ts mintedUtxoId(device, start), so
 * an interval has one UTXO; calling once per (device, interval) is the caller's duty (the
 * close queue's entry is deleted as it is closed). Mint reads no UTXO: what it reads is
 * declarable by a hook from the block alone (mintPrefixes).
 * Throws TX_INVALID_FIELD naming `interval.*` for an interval no close can produce.
 */
export function mintMeteredInterval(world: StateOverlay, device: DeviceRecord, m: MeteredInterval, height: number): Uint8Array | undefined {
  checkInterval(device, m);
  let carbonIntensity = device.carbonIntensity;
  if (isStorageKind(device.kind) && (m.importWh > 0n || m.exportWh > 0n)) {
    const grid = gridIntensityAt(world, device.zone, m.intervalStartMs);
    let pool = getStorageCarbon(world, device.id);
    if (m.importWh > 0n) pool = charge(pool, m.importWh, grid);
    if (m.exportWh > 0n) {
      const d = discharge(pool, m.exportWh, grid);
      pool = d.pool;
      carbonIntensity = d.carbonIntensity;
    }
    putStorageCarbon(world, device.id, pool);
  }
  if (m.exportWh === 0n && !m.frozen) return undefined;
  const id = mintedUtxoId(device.id, m.intervalStartMs);
  const provenance: EnergyProvenance = {
    deviceId: device.id,
    kind: device.kind,
    zone: device.zone,
    intervalStartMs: m.intervalStartMs,
    intervalEndMs: m.intervalEndMs,
    carbonIntensity,
  };
  putUtxo(world, { id, owner: device.owner, wh: m.exportWh, provenance, frozen: m.frozen, height });
  return id;
}

/** The state keys mintMeteredInterval reads for `device`'s interval (none but a storage device's). */
export function mintReadKeys(device: Pick<DeviceRecord, 'id' | 'kind' | 'zone'>, intervalStartMs: number): Uint8Array[] {
  return isStorageKind(device.kind) ? [storageCarbonKey(device.id), ...gridIntensityReadKeys(device.zone, intervalStartMs)] : [];
}

/**
 * What every mint of the interval starting at `intervalStartMs` reads, as prefixes a close
 * hook declares from the block alone: the storage pools (one record per storage device),
 * the interval's grid intensity posts and each zone's latest (one record per zone).
 */
export function mintPrefixes(intervalStartMs: number): Uint8Array[] {
  return [STORAGE_CARBON_PREFIX, gridIntensityIntervalPrefix(intervalStartMs), GRID_INTENSITY_LATEST_PREFIX];
}

/** The frozen UTXO of a device's interval, if there is one (for tx 27's validity). */
export function frozenInterval(world: StateReader, deviceId: string, intervalStartMs: number): EnergyUtxo | undefined {
  const u = getUtxo(world, mintedUtxoId(deviceId, intervalStartMs));
  return u?.frozen ? u : undefined;
}

/**
 * Check-meter resolution: sets the frozen interval's UTXO to `acceptedWh` and unfreezes it
 * (0 Wh: the UTXO is removed, nothing was exported). Its provenance stays as minted. Returns
 * the UTXO as it now is, or undefined when removed. Throws ENERGY_UTXO_UNKNOWN naming
 * `tx.body.intervalStartMs` when the interval has no frozen UTXO, TX_INVALID_FIELD naming
 * `tx.body.acceptedWh` for an amount out of range.
 */
export function unfreezeInterval(world: StateOverlay, deviceId: string, intervalStartMs: number, acceptedWh: bigint): EnergyUtxo | undefined {
  const u = frozenInterval(world, deviceId, intervalStartMs);
  if (u === undefined) {
    throw new JouleError(
      ErrorCode.ENERGY_UTXO_UNKNOWN,
      `device ${JSON.stringify(deviceId)} has no frozen interval starting at ${intervalStartMs}`,
      'tx.body.intervalStartMs',
    );
  }
  if (typeof acceptedWh !== 'bigint' || acceptedWh < 0n || acceptedWh > MAX_ENERGY_WH) throw bug('tx.body.acceptedWh', `must be 0..${MAX_ENERGY_WH} Wh`);
  if (acceptedWh === 0n) {
    deleteUtxo(world, u);
    return undefined;
  }
  const resolved: EnergyUtxo = { ...u, wh: acceptedWh, frozen: false };
  putUtxo(world, resolved);
  return resolved;
}
