import { decode, encode, readAmount, readArray, readBytes } from '../codec.ts';
import { checkWh } from '../energy.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { checkEnergyInputs, readEnergyInputs } from './energy-inputs.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

export const MAX_ENERGY_OUTPUTS = 64;

export interface EnergyOutput {
  readonly owner: Uint8Array;
  readonly wh: bigint;
}

/**
 * Type 22: the owner spends energy UTXOs of one provenance and creates outputs of that
 * provenance (a split, a merge, or both); the outputs' Wh equal the inputs' exactly. Output
 * i gets the id core/energy.ts outputUtxoId(tx hash, i).
 * Wire form: [[inputId (32)...], [[owner (20), wh]...]]
 */
export interface EnergyTransferBody {
  readonly inputs: readonly Uint8Array[];
  readonly outputs: readonly EnergyOutput[];
}

function check(b: EnergyTransferBody): void {
  checkEnergyInputs(b.inputs);
  if (!Array.isArray(b.outputs) || b.outputs.length === 0 || b.outputs.length > MAX_ENERGY_OUTPUTS) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must list 1..${MAX_ENERGY_OUTPUTS} outputs`, 'tx.body.outputs');
  }
  b.outputs.forEach((o, i) => {
    if (!(o.owner instanceof Uint8Array) || o.owner.length !== ADDRESS_LENGTH)
      throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be a ${ADDRESS_LENGTH}-byte address`, `tx.body.outputs[${i}].owner`);
    checkWh(o.wh, `tx.body.outputs[${i}].wh`);
  });
}

export function encodeEnergyTransferBody(b: EnergyTransferBody): Uint8Array {
  check(b);
  return encode([[...b.inputs], b.outputs.map((o) => [o.owner, o.wh])]);
}

export function decodeEnergyTransferBody(bytes: Uint8Array): EnergyTransferBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 2);
  const inputs = readEnergyInputs(f[0]!);
  const outs = readArray(f[1]!, 'tx.body.outputs');
  if (outs.length > MAX_ENERGY_OUTPUTS) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must list 1..${MAX_ENERGY_OUTPUTS} outputs`, 'tx.body.outputs');
  const outputs = outs.map((e, i) => {
    const o = readArray(e, `tx.body.outputs[${i}]`, 2);
    return { owner: readBytes(o[0]!, `tx.body.outputs[${i}].owner`, ADDRESS_LENGTH), wh: readAmount(o[1]!, `tx.body.outputs[${i}].wh`) };
  });
  const body = { inputs, outputs };
  check(body);
  return body;
}

export function buildEnergyTransfer(args: SenderArgs & EnergyTransferBody): Tx {
  return signBody(args, TxType.energyTransfer, encodeEnergyTransferBody({ inputs: args.inputs, outputs: args.outputs }));
}
