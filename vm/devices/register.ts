import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { blsPublicKey } from '../../core/keys.ts';
import { deviceProofOfPossessionSet } from '../../core/pop.ts';
import { decodeDeviceRegisterBody, type DeviceRegisterBody } from '../../core/tx/device-register.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { deviceKey, getDevice, putDevice } from '../../state/devices.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler, TxSignatureSet } from '../types.ts';
import { requireCheckMeter, requireOperatorRole } from './rules.ts';

/**
 * Type 16: a dso or aggregator registers a device it will operate (the sender is the
 * operator). Validity: a valid G1 key with its proof of possession (so no one registers a
 * rogue key, computed from others' keys, that would forge aggregate telemetry
 * signatures), a fresh id (ids are never reused, a revoked device's included), a check
 * meter that is a registered device. The key signs readings from the next block on
 * (keyHistory[0].fromHeight = height + 1, core/device.ts deviceKeyAt).
 */

export function validateRegisterKey(field: string, key: Uint8Array): void {
  if (blsPublicKey(key) === undefined) throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'is not a valid BLS12-381 G1 public key', field);
}

export function popSignatureSet(ctx: ChainContext, key: Uint8Array, proof: Uint8Array): TxSignatureSet {
  return {
    set: deviceProofOfPossessionSet(ctx.chainId, key, proof),
    field: 'tx.body.proofOfPossession',
    message: "the proof of possession does not verify: it must be the device key's signature of core/pop.ts devicePopMessage for this chain",
  };
}

function checkState(state: StateReader, body: DeviceRegisterBody, tx: Tx): void {
  requireOperatorRole(state, tx);
  if (getDevice(state, body.id) !== undefined)
    throw new JouleError(ErrorCode.DEVICE_EXISTS, `device ${JSON.stringify(body.id)} is already registered`, 'tx.body.id');
  if (body.checkMeter !== undefined) requireCheckMeter(state, body.checkMeter, tx.from);
}

function execute({ state, tx, body, block }: ExecContext<DeviceRegisterBody>): BlockEvent[] {
  const fromHeight = block.height + 1;
  const record: DeviceRecord = {
    id: body.id,
    publicKey: body.publicKey,
    owner: body.owner,
    operator: tx.from,
    kind: body.kind,
    zone: body.zone,
    maxImportW: body.maxImportW,
    maxExportW: body.maxExportW,
    carbonIntensity: body.carbonIntensity,
    checkMeter: body.checkMeter,
    status: 'active',
    keyHistory: [{ key: body.publicKey, fromHeight }],
  };
  putDevice(state, record);
  return [
    {
      type: 'device-registered',
      attributes: [
        ['device', body.id],
        ['operator', addressText(tx.from)],
        ['owner', addressText(body.owner)],
        ['kind', body.kind],
        ['zone', body.zone],
        ['keyFromHeight', String(fromHeight)],
      ],
    },
  ];
}

/** State keys the tx reads besides the sender's account: the id's record and the check meter's. */
export function registerKeys(body: DeviceRegisterBody): Uint8Array[] {
  return body.checkMeter === undefined ? [deviceKey(body.id)] : [deviceKey(body.id), deviceKey(body.checkMeter)];
}

export const deviceRegisterHandler: TxHandler<DeviceRegisterBody> = {
  type: TxType.deviceRegister,
  name: 'device-register',
  tier: 'grid_balancing',
  decodeBody: decodeDeviceRegisterBody,
  validate: (body) => validateRegisterKey('tx.body.publicKey', body.publicKey),
  signatureSets: (body, _tx, ctx) => [popSignatureSet(ctx, body.publicKey, body.proofOfPossession)],
  spend: () => 0n,
  keys: registerKeys,
  checkState,
  execute,
  describe: (body) => ({
    id: body.id,
    publicKey: `0x${toHex(body.publicKey)}`,
    proofOfPossession: `0x${toHex(body.proofOfPossession)}`,
    owner: addressText(body.owner),
    kind: body.kind,
    zone: body.zone,
    maxImportW: body.maxImportW,
    maxExportW: body.maxExportW,
    carbonIntensity: body.carbonIntensity,
    checkMeter: body.checkMeter ?? null,
  }),
};
