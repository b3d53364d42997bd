import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { outputUtxoId, type EnergyUtxo } from '../../core/energy.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { decodeEnergyTransferBody, type EnergyTransferBody } from '../../core/tx/energy-transfer.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putUtxo } from '../../state/energy.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText } from '../accounts.ts';
import type { ExecContext, TxHandler } from '../types.ts';
import { inputKeys, spendableInputs, spendInputs, type SpendableInputs } from './inputs.ts';

/**
 * Type 22: the owner spends UTXOs of one provenance (vm/energy/inputs.ts) and creates
 * outputs of that provenance whose Wh add up to the inputs' exactly: a split, a merge, a
 * payment with change. Output i is outputUtxoId(tx hash, i), created at this height.
 */

function checked(state: StateReader, body: EnergyTransferBody, tx: Tx): SpendableInputs {
  const inputs = spendableInputs(state, tx, body.inputs);
  const out = body.outputs.reduce((s, o) => s + o.wh, 0n);
  if (out !== inputs.wh)
    throw new JouleError(ErrorCode.ENERGY_NOT_CONSERVED, `outputs hold ${out} Wh, inputs ${inputs.wh} Wh: they must be equal`, 'tx.body.outputs');
  return inputs;
}

function execute({ state, tx, body, block }: ExecContext<EnergyTransferBody>): BlockEvent[] {
  const inputs = checked(state, body, tx);
  spendInputs(state, inputs);
  const created: EnergyUtxo[] = body.outputs.map((o, i) => ({
    id: outputUtxoId(tx.hash, i),
    owner: o.owner,
    wh: o.wh,
    provenance: inputs.provenance,
    frozen: false,
    height: block.height,
  }));
  for (const u of created) putUtxo(state, u);
  return [
    {
      type: 'energy-transfer',
      attributes: [
        ['from', addressText(tx.from)],
        ['device', inputs.provenance.deviceId],
        ['wh', inputs.wh.toString()],
        ...body.inputs.map((id): [string, string] => ['spent', toHex(id)]),
        ...created.map((u): [string, string] => ['created', `${toHex(u.id)}:${addressText(u.owner)}:${u.wh}`]),
      ],
    },
  ];
}

export const energyTransferHandler: TxHandler<EnergyTransferBody> = {
  type: TxType.energyTransfer,
  name: 'energy-transfer',
  tier: 'peer_to_peer',
  decodeBody: decodeEnergyTransferBody,
  spend: () => 0n,
  keys: (body) => energyTransferKeys(body),
  checkState: (state, body, tx) => void checked(state, body, tx),
  execute,
  describe: (body) => ({
    inputs: body.inputs.map((id) => `0x${toHex(id)}`),
    outputs: body.outputs.map((o) => ({ owner: addressText(o.owner), wh: o.wh.toString() })),
  }),
};

/** State keys the tx reads besides the sender's account. */
export function energyTransferKeys(body: EnergyTransferBody): Uint8Array[] {
  return inputKeys(body.inputs);
}
