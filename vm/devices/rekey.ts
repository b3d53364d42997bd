import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { MAX_KEY_HISTORY, type DeviceKey } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { decodeDeviceRekeyBody, type DeviceRekeyBody } from '../../core/tx/device-rekey.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { deviceKey, putDevice } from '../../state/devices.ts';
import type { StateReader } from '../../state/overlay.ts';
import type { ExecContext, TxHandler } from '../types.ts';
import { popSignatureSet, validateRegisterKey } from './register.ts';
import { authorityOf, requireDevice, requireNotRevoked, requireOperatorRole } from './rules.ts';

/**
 * Type 19: the operator gives a device a new key, with its proof of possession (checked
 * like at registration). The new key signs readings included from the next block on; the
 * old one stays in the key history, valid for the heights before (core/device.ts
 * deviceKeyAt), so old readings stay verifiable and a reading signed with the rotated-out
 * key is refused from then on. A second re-key in the same block replaces the first's
 * entry (that key was never valid at any height). A key the device used before is refused.
 * Operator only: a suspended device may be re-keyed (suspend, re-key, reactivate is the
 * path after a key leaked), a revoked one may not.
 */

function checkState(state: StateReader, body: DeviceRekeyBody, tx: Tx): void {
  const d = requireDevice(state, body.id, 'tx.body.id');
  requireNotRevoked(d, 'tx.body.id');
  if (authorityOf(tx, d) !== 'operator')
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `only the operator of device ${JSON.stringify(d.id)} re-keys it`, 'tx.sender');
  requireOperatorRole(state, tx);
  if (d.keyHistory.some((k) => equalBytes(k.key, body.publicKey)))
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'the device has used this key before', 'tx.body.publicKey');
  if (d.keyHistory.length >= MAX_KEY_HISTORY)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `the device has had ${MAX_KEY_HISTORY} keys, the most a record keeps; register it anew`, 'tx.body.id');
}

function execute({ state, body, block }: ExecContext<DeviceRekeyBody>): BlockEvent[] {
  const d = requireDevice(state, body.id, 'tx.body.id');
  const fromHeight = block.height + 1;
  const last = d.keyHistory[d.keyHistory.length - 1]!;
  const kept: readonly DeviceKey[] = last.fromHeight === fromHeight ? d.keyHistory.slice(0, -1) : d.keyHistory;
  putDevice(state, { ...d, publicKey: body.publicKey, keyHistory: [...kept, { key: body.publicKey, fromHeight }] }, d);
  return [
    {
      type: 'device-rekeyed',
      attributes: [
        ['device', d.id],
        ['publicKey', toHex(body.publicKey)],
        ['fromHeight', String(fromHeight)],
      ],
    },
  ];
}

export function rekeyKeys(body: DeviceRekeyBody): Uint8Array[] {
  return [deviceKey(body.id)];
}

export const deviceRekeyHandler: TxHandler<DeviceRekeyBody> = {
  type: TxType.deviceRekey,
  name: 'device-rekey',
  tier: 'grid_balancing',
  decodeBody: decodeDeviceRekeyBody,
  validate: (body) => validateRegisterKey('tx.body.publicKey', body.publicKey),
  signatureSets: (body, _tx, ctx) => [popSignatureSet(ctx, body.publicKey, body.proofOfPossession)],
  spend: () => 0n,
  keys: rekeyKeys,
  checkState,
  execute,
  describe: (body) => ({ id: body.id, publicKey: `0x${toHex(body.publicKey)}`, proofOfPossession: `0x${toHex(body.proofOfPossession)}` }),
};
