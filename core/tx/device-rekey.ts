import { decode, encode, readArray, readBytes, readString } from '../codec.ts';
import { checkDeviceId, MAX_DEVICE_ID_LENGTH } from '../device.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/** Type 19. Wire form: [id, publicKey (48), proofOfPossession (96, core/pop.ts devicePopMessage)] */
export interface DeviceRekeyBody {
  readonly id: string;
  readonly publicKey: Uint8Array;
  readonly proofOfPossession: Uint8Array;
}

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: DeviceRekeyBody): void {
  checkDeviceId(b.id, 'tx.body.id');
  if (!(b.publicKey instanceof Uint8Array) || b.publicKey.length !== BLS_PUBLIC_KEY_LENGTH) throw bad('publicKey', `must be ${BLS_PUBLIC_KEY_LENGTH} bytes`);
  if (!(b.proofOfPossession instanceof Uint8Array) || b.proofOfPossession.length !== BLS_SIGNATURE_LENGTH)
    throw bad('proofOfPossession', `must be ${BLS_SIGNATURE_LENGTH} bytes`);
}

export function encodeDeviceRekeyBody(b: DeviceRekeyBody): Uint8Array {
  check(b);
  return encode([b.id, b.publicKey, b.proofOfPossession]);
}

export function decodeDeviceRekeyBody(bytes: Uint8Array): DeviceRekeyBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 3);
  const body = {
    id: readString(f[0]!, 'tx.body.id', MAX_DEVICE_ID_LENGTH),
    publicKey: readBytes(f[1]!, 'tx.body.publicKey'),
    proofOfPossession: readBytes(f[2]!, 'tx.body.proofOfPossession'),
  };
  check(body);
  return body;
}

export function buildDeviceRekey(args: SenderArgs & DeviceRekeyBody): Tx {
  return signBody(args, TxType.deviceRekey, encodeDeviceRekeyBody({ id: args.id, publicKey: args.publicKey, proofOfPossession: args.proofOfPossession }));
}
