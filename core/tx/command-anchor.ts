import { decode, encode, readAmount, readArray, readString, readUint } from '../codec.ts';
import { checkCommandFields, commandFieldList, type CommandFields, type CommandTypeId, MAX_COMMAND_TARGETS } from '../command.ts';
import { MAX_DEVICE_ID_LENGTH, MAX_ZONE_LENGTH } from '../device.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 28, command-anchor: a dso anchors a grid command it issued (core/command.ts); the
 * sender is the issuer. Wire form: [type, deviceIds, zone | nil, powerLimitW,
 * priceMicroPerKwh, validFromUs, validUntilUs].
 */
export type CommandAnchorBody = CommandFields;

export function encodeCommandAnchorBody(b: CommandAnchorBody): Uint8Array {
  checkCommandFields(b);
  return encode(commandFieldList(b));
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeCommandAnchorBody(bytes: Uint8Array): CommandAnchorBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 7);
  const ids = readArray(f[1]!, 'tx.body.deviceIds');
  if (ids.length === 0 || ids.length > MAX_COMMAND_TARGETS)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must name 1..${MAX_COMMAND_TARGETS} devices, got ${ids.length}`, 'tx.body.deviceIds');
  const body: CommandAnchorBody = {
    type: readUint(f[0]!, 'tx.body.type') as CommandTypeId,
    deviceIds: ids.map((v, i) => readString(v, `tx.body.deviceIds[${i}]`, MAX_DEVICE_ID_LENGTH)),
    zone: f[2] === null ? undefined : readString(f[2]!, 'tx.body.zone', MAX_ZONE_LENGTH),
    powerLimitW: readUint(f[3]!, 'tx.body.powerLimitW'),
    priceMicroPerKwh: readAmount(f[4]!, 'tx.body.priceMicroPerKwh'),
    validFromUs: readAmount(f[5]!, 'tx.body.validFromUs'),
    validUntilUs: readAmount(f[6]!, 'tx.body.validUntilUs'),
  };
  checkCommandFields(body);
  return body;
}

export function buildCommandAnchor(args: SenderArgs & CommandAnchorBody): Tx {
  const { type, deviceIds, zone, powerLimitW, priceMicroPerKwh, validFromUs, validUntilUs } = args;
  return signBody(args, TxType.commandAnchor, encodeCommandAnchorBody({ type, deviceIds, zone, powerLimitW, priceMicroPerKwh, validFromUs, validUntilUs }));
}
