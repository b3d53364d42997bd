import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { certificateId, outputUtxoId, type Certificate } from '../../core/energy.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { decodeEnergyRetireBody, type EnergyRetireBody } from '../../core/tx/energy-retire.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putCertificate, putUtxo } from '../../state/energy.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText } from '../accounts.ts';
import type { ExecContext, TxHandler } from '../types.ts';
import { inputKeys, spendableInputs, spendInputs, type SpendableInputs } from './inputs.ts';

/**
 * Type 23: the owner retires `wh` of UTXOs of one provenance as a certificate
 * {id, beneficiary, purpose, wh, provenance, height, time}. The inputs are spent; what they
 * hold beyond `wh` returns to the sender as outputUtxoId(tx hash, 0). A certificate is a
 * record of its own kind, never a UTXO: no tx type spends it, so retired energy never moves.
 */

function checked(state: StateReader, body: EnergyRetireBody, tx: Tx): SpendableInputs {
  const inputs = spendableInputs(state, tx, body.inputs);
  if (body.wh > inputs.wh) throw new JouleError(ErrorCode.ENERGY_NOT_CONSERVED, `retires ${body.wh} Wh, the inputs hold ${inputs.wh} Wh`, 'tx.body.wh');
  return inputs;
}

function execute({ state, tx, body, block }: ExecContext<EnergyRetireBody>): BlockEvent[] {
  const inputs = checked(state, body, tx);
  spendInputs(state, inputs);
  const cert: Certificate = {
    id: certificateId(tx.hash),
    beneficiary: body.beneficiary,
    purpose: body.purpose,
    wh: body.wh,
    provenance: inputs.provenance,
    height: block.height,
    time: block.timestamp,
  };
  putCertificate(state, cert);
  const change = inputs.wh - body.wh;
  const attributes: [string, string][] = [
    ['certificate', toHex(cert.id)],
    ['owner', addressText(tx.from)],
    ['beneficiary', addressText(body.beneficiary)],
    ['device', inputs.provenance.deviceId],
    ['wh', body.wh.toString()],
    ...body.inputs.map((id): [string, string] => ['spent', toHex(id)]),
  ];
  if (change > 0n) {
    const id = outputUtxoId(tx.hash, 0);
    putUtxo(state, { id, owner: tx.from, wh: change, provenance: inputs.provenance, frozen: false, height: block.height });
    attributes.push(['created', `${toHex(id)}:${addressText(tx.from)}:${change}`]);
  }
  return [{ type: 'energy-retire', attributes }];
}

export const energyRetireHandler: TxHandler<EnergyRetireBody> = {
  type: TxType.energyRetire,
  name: 'energy-retire',
  tier: 'carbon_credit',
  decodeBody: decodeEnergyRetireBody,
  spend: () => 0n,
  keys: (body) => energyRetireKeys(body),
  checkState: (state, body, tx) => void checked(state, body, tx),
  execute,
  describe: (body) => ({
    inputs: body.inputs.map((id) => `0x${toHex(id)}`),
    wh: body.wh.toString(),
    beneficiary: addressText(body.beneficiary),
    purpose: body.purpose,
  }),
};

/** State keys the tx reads besides the sender's account (the certificate and change are only written). */
export function energyRetireKeys(body: EnergyRetireBody): Uint8Array[] {
  return inputKeys(body.inputs);
}
