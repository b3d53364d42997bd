import type { BlockEvent } from '../core/block.ts';
import { decodeTransferBody, type TransferBody } from '../core/tx/transfer.ts';
import { TxType } from '../core/tx/types.ts';
import { accountKey } from '../state/keys.ts';
import { addressText, readAccount, writeAccount } from './accounts.ts';
import type { ExecContext, TxHandler } from './types.ts';

/**
 * Settlement-currency transfer (account model). Validity already guaranteed that the
 * sender holds fee + amount, so execution cannot run short; a transfer to oneself is
 * allowed and only costs the fee (the recipient is read after the debit, so it nets out).
 */
export const transferHandler: TxHandler<TransferBody> = {
  type: TxType.transfer,
  name: 'transfer',
  tier: 'peer_to_peer',
  decodeBody: decodeTransferBody,
  spend: (body) => body.amount,
  spendField: 'tx.body.amount',
  keys: (body) => [accountKey(body.to)],

  execute({ state, tx, body, sender }: ExecContext<TransferBody>): BlockEvent[] {
    writeAccount(state, tx.from, { ...sender, balance: sender.balance - body.amount });
    const recipient = readAccount(state, body.to);
    // Encoding rejects a balance beyond 2^64-1 (CODEC_WRONG_TYPE): an execution failure.
    writeAccount(state, body.to, { ...recipient, balance: recipient.balance + body.amount });
    return [
      {
        type: 'transfer',
        attributes: [
          ['from', addressText(tx.from)],
          ['to', addressText(body.to)],
          ['amount', body.amount.toString()],
        ],
      },
    ];
  },

  describe: (body) => ({ to: addressText(body.to), amount: body.amount.toString() }),
};
