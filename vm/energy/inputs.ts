import { toHex } from '../../core/bytes.ts';
import { equalBytes } from '../../core/bytes.ts';
import { sameProvenance, type EnergyProvenance, type EnergyUtxo } from '../../core/energy.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { Tx } from '../../core/tx.ts';
import { deleteUtxo, energyUtxoKey, getUtxo } from '../../state/energy.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import { addressText } from '../accounts.ts';

/**
 * The inputs of energy-transfer and energy-retire: unspent, owned by the sender, not
 * frozen, all of one provenance. A UTXO is spent by deleting it, so the second spend of one
 * (in a later block, or later in the same block) finds nothing: ENERGY_UTXO_UNKNOWN.
 */
export interface SpendableInputs {
  readonly utxos: readonly EnergyUtxo[];
  readonly provenance: EnergyProvenance;
  readonly wh: bigint;
}

/** Throws ENERGY_UTXO_UNKNOWN, TX_UNAUTHORIZED, ENERGY_UTXO_FROZEN or ENERGY_PROVENANCE_MIXED naming `tx.body.inputs[i]`. */
export function spendableInputs(state: StateReader, tx: Tx, ids: readonly Uint8Array[]): SpendableInputs {
  const utxos: EnergyUtxo[] = [];
  let wh = 0n;
  ids.forEach((id, i) => {
    const field = `tx.body.inputs[${i}]`;
    const u = getUtxo(state, id);
    if (u === undefined) throw new JouleError(ErrorCode.ENERGY_UTXO_UNKNOWN, `no unspent energy UTXO ${toHex(id)}: never minted, spent or retired`, field);
    if (!equalBytes(u.owner, tx.from))
      throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `UTXO ${toHex(id)} belongs to ${addressText(u.owner)}, not the sender`, field);
    if (u.frozen) throw new JouleError(ErrorCode.ENERGY_UTXO_FROZEN, `UTXO ${toHex(id)} is frozen until its check-meter disagreement is resolved`, field);
    if (utxos.length > 0 && !sameProvenance(utxos[0]!.provenance, u.provenance)) {
      throw new JouleError(
        ErrorCode.ENERGY_PROVENANCE_MIXED,
        `UTXO ${toHex(id)}'s provenance differs from tx.body.inputs[0]'s: energy merges only with identical provenance`,
        field,
      );
    }
    utxos.push(u);
    wh += u.wh;
  });
  return { utxos, provenance: utxos[0]!.provenance, wh };
}

export function spendInputs(state: StateOverlay, inputs: SpendableInputs): void {
  for (const u of inputs.utxos) deleteUtxo(state, u);
}

/** What the inputs' checks read (the sender's account aside): for the tx's access list. */
export function inputKeys(ids: readonly Uint8Array[]): Uint8Array[] {
  return ids.map(energyUtxoKey);
}
