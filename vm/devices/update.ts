import type { BlockEvent } from '../../core/block.ts';
import { equalBytes } from '../../core/bytes.ts';
import { encodeDevice, type DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { decodeDeviceUpdateBody, type DeviceUpdateBody } from '../../core/tx/device-update.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { deviceKey, putDevice } from '../../state/devices.ts';
import { GOVERNANCE_PREFIX } from '../../state/governance-votes.ts';
import { accountKey } from '../../state/keys.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import { addressText } from '../accounts.ts';
import type { ExecContext, TxHandler } from '../types.ts';
import { byAuthority, checkAuthority, governedDeviceKeys, holdsOperatorRole, requireCheckMeter, requireDevice, requireNotRevoked } from './rules.ts';

/**
 * Type 17: change a device's zone, power limits, carbon intensity, operator or check
 * meter. By its operator directly, or by governance: a validator's update counts as a
 * vote, applied when a majority of validators sent the same body (vm/governance.ts). A
 * revoked device never changes; a new operator must hold dso or aggregator; an update
 * that would change nothing is refused.
 */

/** The record with `u` applied. */
export function updatedDevice(d: DeviceRecord, u: DeviceUpdateBody): DeviceRecord {
  return {
    ...d,
    zone: u.zone ?? d.zone,
    maxImportW: u.maxImportW ?? d.maxImportW,
    maxExportW: u.maxExportW ?? d.maxExportW,
    carbonIntensity: u.carbonIntensity ?? d.carbonIntensity,
    operator: u.operator ?? d.operator,
    checkMeter: u.checkMeter === undefined ? d.checkMeter : (u.checkMeter ?? undefined),
  };
}

function checkState(state: StateReader, body: DeviceUpdateBody, tx: Tx): void {
  const d = requireDevice(state, body.id, 'tx.body.id');
  requireNotRevoked(d, 'tx.body.id');
  const authority = checkAuthority(state, tx, d);
  if (body.operator !== undefined && !holdsOperatorRole(state, body.operator)) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `${addressText(body.operator)} holds neither the dso nor the aggregator role`, 'tx.body.operator');
  }
  if (typeof body.checkMeter === 'string') requireCheckMeter(state, body.checkMeter, authority === 'operator' ? tx.from : undefined);
  if (equalBytes(encodeDevice(updatedDevice(d, body)), encodeDevice(d)))
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'the update changes nothing', 'tx.body');
}

function apply(state: StateOverlay, body: DeviceUpdateBody): BlockEvent[] {
  const d = requireDevice(state, body.id, 'tx.body.id');
  const next = updatedDevice(d, body);
  putDevice(state, next, d);
  const attributes: [string, string][] = [['device', body.id]];
  if (body.zone !== undefined) attributes.push(['zone', body.zone]);
  if (body.maxImportW !== undefined) attributes.push(['maxImportW', String(body.maxImportW)]);
  if (body.maxExportW !== undefined) attributes.push(['maxExportW', String(body.maxExportW)]);
  if (body.carbonIntensity !== undefined) attributes.push(['carbonIntensity', String(body.carbonIntensity)]);
  if (body.operator !== undefined) attributes.push(['operator', addressText(body.operator)]);
  if (body.checkMeter !== undefined) attributes.push(['checkMeter', body.checkMeter ?? '']);
  return [{ type: 'device-updated', attributes }];
}

function execute({ state, tx, body, block }: ExecContext<DeviceUpdateBody>): BlockEvent[] {
  const d = requireDevice(state, body.id, 'tx.body.id');
  return byAuthority(state, tx, block, d, () => apply(state, body));
}

export function updateKeys(body: DeviceUpdateBody, tx: Tx): Uint8Array[] {
  const keys = governedDeviceKeys(tx, body.id);
  if (body.operator !== undefined) keys.push(accountKey(body.operator));
  if (typeof body.checkMeter === 'string') keys.push(deviceKey(body.checkMeter));
  return keys;
}

export const deviceUpdateHandler: TxHandler<DeviceUpdateBody> = {
  type: TxType.deviceUpdate,
  name: 'device-update',
  tier: 'grid_balancing',
  decodeBody: decodeDeviceUpdateBody,
  spend: () => 0n,
  keys: updateKeys,
  prefixes: () => [GOVERNANCE_PREFIX],
  checkState,
  execute,
  describe: (body) => ({
    id: body.id,
    ...(body.zone !== undefined ? { zone: body.zone } : {}),
    ...(body.maxImportW !== undefined ? { maxImportW: body.maxImportW } : {}),
    ...(body.maxExportW !== undefined ? { maxExportW: body.maxExportW } : {}),
    ...(body.carbonIntensity !== undefined ? { carbonIntensity: body.carbonIntensity } : {}),
    ...(body.operator !== undefined ? { operator: addressText(body.operator) } : {}),
    ...(body.checkMeter !== undefined ? { checkMeter: body.checkMeter } : {}),
  }),
};
