import { decode, encode, readArray, readString, readUint } from '../codec.ts';
import { checkDeviceId, MAX_DEVICE_ID_LENGTH } from '../device.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/** What a device-status tx does; the wire form is the index. `revoke` is final. */
export const DEVICE_STATUS_ACTIONS = ['suspend', 'revoke', 'reactivate'] as const;
export type DeviceStatusAction = (typeof DEVICE_STATUS_ACTIONS)[number];

/** Type 18. Wire form: [id, action (0 suspend, 1 revoke, 2 reactivate)] */
export interface DeviceStatusBody {
  readonly id: string;
  readonly action: DeviceStatusAction;
}

function check(b: DeviceStatusBody): void {
  checkDeviceId(b.id, 'tx.body.id');
  if (!(DEVICE_STATUS_ACTIONS as readonly string[]).includes(b.action)) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be one of ${DEVICE_STATUS_ACTIONS.join(', ')}`, 'tx.body.action');
  }
}

export function encodeDeviceStatusBody(b: DeviceStatusBody): Uint8Array {
  check(b);
  return encode([b.id, DEVICE_STATUS_ACTIONS.indexOf(b.action)]);
}

export function decodeDeviceStatusBody(bytes: Uint8Array): DeviceStatusBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 2);
  const id = readString(f[0]!, 'tx.body.id', MAX_DEVICE_ID_LENGTH);
  const n = readUint(f[1]!, 'tx.body.action');
  const action = DEVICE_STATUS_ACTIONS[n];
  if (action === undefined) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be 0 (suspend), 1 (revoke) or 2 (reactivate), got ${n}`, 'tx.body.action');
  const body = { id, action };
  check(body);
  return body;
}

export function buildDeviceStatus(args: SenderArgs & DeviceStatusBody): Tx {
  return signBody(args, TxType.deviceStatus, encodeDeviceStatusBody({ id: args.id, action: args.action }));
}
