import type { BlockEvent } from '../../core/block.ts';
import type { DeviceStatus } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { decodeDeviceStatusBody, type DeviceStatusAction, type DeviceStatusBody } from '../../core/tx/device-status.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putDevice } from '../../state/devices.ts';
import { GOVERNANCE_PREFIX } from '../../state/governance-votes.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import type { ExecContext, TxHandler } from '../types.ts';
import { byAuthority, checkAuthority, governedDeviceKeys, requireDevice, requireNotRevoked } from './rules.ts';

/**
 * Type 18: suspend, revoke or reactivate a device, by its operator or by governance
 * (vm/governance.ts). suspend: from active or flagged-for-inspection; reactivate: from
 * suspended or flagged-for-inspection (the operator clears the chain's flag after
 * inspection); revoke: from anything but revoked. Revoked is final: no later tx of any
 * type changes the device again.
 */

const RESULT: Readonly<Record<DeviceStatusAction, DeviceStatus>> = { suspend: 'suspended', revoke: 'revoked', reactivate: 'active' };
const FROM: Readonly<Record<DeviceStatusAction, readonly DeviceStatus[]>> = {
  suspend: ['active', 'flagged-for-inspection'],
  revoke: ['active', 'suspended', 'flagged-for-inspection'],
  reactivate: ['suspended', 'flagged-for-inspection'],
};

function checkState(state: StateReader, body: DeviceStatusBody, tx: Tx): void {
  const d = requireDevice(state, body.id, 'tx.body.id');
  requireNotRevoked(d, 'tx.body.id');
  checkAuthority(state, tx, d);
  if (!FROM[body.action].includes(d.status)) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `device ${JSON.stringify(d.id)} is ${d.status}: cannot ${body.action} it`, 'tx.body.action');
  }
}

function apply(state: StateOverlay, body: DeviceStatusBody): BlockEvent[] {
  const d = requireDevice(state, body.id, 'tx.body.id');
  const status = RESULT[body.action];
  putDevice(state, { ...d, status }, d);
  return [
    {
      type: 'device-status',
      attributes: [
        ['device', d.id],
        ['from', d.status],
        ['to', status],
      ],
    },
  ];
}

function execute({ state, tx, body, block }: ExecContext<DeviceStatusBody>): BlockEvent[] {
  const d = requireDevice(state, body.id, 'tx.body.id');
  return byAuthority(state, tx, block, d, () => apply(state, body));
}

export const deviceStatusHandler: TxHandler<DeviceStatusBody> = {
  type: TxType.deviceStatus,
  name: 'device-status',
  tier: 'grid_balancing',
  decodeBody: decodeDeviceStatusBody,
  spend: () => 0n,
  keys: (body, tx) => governedDeviceKeys(tx, body.id),
  prefixes: () => [GOVERNANCE_PREFIX],
  checkState,
  execute,
  describe: (body) => ({ id: body.id, action: body.action }),
};
