import { decode, encode, readAmount, readArray, readBytes, readString } from '../codec.ts';
import { checkPurpose, checkWh, MAX_PURPOSE_LENGTH } from '../energy.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { checkEnergyInputs, readEnergyInputs } from './energy-inputs.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 23: the owner retires `wh` of energy UTXOs of one provenance as a certificate for
 * `beneficiary` (core/energy.ts certificateId(tx hash)); what the inputs hold beyond `wh`
 * comes back to the sender as one UTXO, outputUtxoId(tx hash, 0).
 * Wire form: [[inputId (32)...], wh, beneficiary (20), purpose]
 */
export interface EnergyRetireBody {
  readonly inputs: readonly Uint8Array[];
  readonly wh: bigint;
  readonly beneficiary: Uint8Array;
  readonly purpose: string;
}

function check(b: EnergyRetireBody): void {
  checkEnergyInputs(b.inputs);
  checkWh(b.wh, 'tx.body.wh');
  if (!(b.beneficiary instanceof Uint8Array) || b.beneficiary.length !== ADDRESS_LENGTH)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be a ${ADDRESS_LENGTH}-byte address`, 'tx.body.beneficiary');
  checkPurpose(b.purpose, 'tx.body.purpose');
}

export function encodeEnergyRetireBody(b: EnergyRetireBody): Uint8Array {
  check(b);
  return encode([[...b.inputs], b.wh, b.beneficiary, b.purpose]);
}

export function decodeEnergyRetireBody(bytes: Uint8Array): EnergyRetireBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 4);
  const body: EnergyRetireBody = {
    inputs: readEnergyInputs(f[0]!),
    wh: readAmount(f[1]!, 'tx.body.wh'),
    beneficiary: readBytes(f[2]!, 'tx.body.beneficiary', ADDRESS_LENGTH),
    purpose: readString(f[3]!, 'tx.body.purpose', MAX_PURPOSE_LENGTH),
  };
  check(body);
  return body;
}

export function buildEnergyRetire(args: SenderArgs & EnergyRetireBody): Tx {
  return signBody(
    args,
    TxType.energyRetire,
    encodeEnergyRetireBody({ inputs: args.inputs, wh: args.wh, beneficiary: args.beneficiary, purpose: args.purpose }),
  );
}
