import { toHex } from '../bytes.ts';
import { readArray, readBytes, type Encodable } from '../codec.ts';
import { ENERGY_ID_LENGTH } from '../energy.ts';
import { ErrorCode, JouleError } from '../errors.ts';

/** UTXOs one energy-transfer or energy-retire may spend. */
export const MAX_ENERGY_INPUTS = 64;

/** 1..MAX_ENERGY_INPUTS distinct 32-byte ids; TX_INVALID_FIELD naming `tx.body.inputs[i]` otherwise. */
export function checkEnergyInputs(inputs: readonly Uint8Array[]): void {
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > MAX_ENERGY_INPUTS) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must list 1..${MAX_ENERGY_INPUTS} UTXO ids`, 'tx.body.inputs');
  }
  const seen = new Set<string>();
  inputs.forEach((id, i) => {
    if (!(id instanceof Uint8Array) || id.length !== ENERGY_ID_LENGTH)
      throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be ${ENERGY_ID_LENGTH} bytes`, `tx.body.inputs[${i}]`);
    const h = toHex(id);
    if (seen.has(h)) throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'spends a UTXO listed before in the same tx', `tx.body.inputs[${i}]`);
    seen.add(h);
  });
}

export function readEnergyInputs(v: Encodable): Uint8Array[] {
  const list = readArray(v, 'tx.body.inputs');
  if (list.length > MAX_ENERGY_INPUTS) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must list 1..${MAX_ENERGY_INPUTS} UTXO ids`, 'tx.body.inputs');
  return list.map((e, i) => readBytes(e, `tx.body.inputs[${i}]`, ENERGY_ID_LENGTH));
}
