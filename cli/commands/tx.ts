import type { Command } from 'commander';
import { isJouleError } from '../../core/errors.ts';
import { parseAddress } from '../../core/keys.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { CliError } from '../rpc-client.ts';
import { parseAmount, sendTx, withSenderOptions, type TxOptions } from './sender.ts';
import { registerValidatorVoteCommand } from './tx-validator-vote.ts';

/**
 * `joule tx <type>`: build, sign and submit transactions. Every type shares the sender
 * context (key, chain id, nonce) and submitTx (submit, optionally wait for finality), so
 * `tx validator-vote` (tx-validator-vote.ts) is one more subcommand over the same helpers.
 */

function parseTo(v: string): Uint8Array {
  try {
    return parseAddress(v, 'to');
  } catch (e) {
    if (isJouleError(e)) throw new CliError(e.code, `--to ${e.message.replace(/^to: /, '')}`, 'to');
    throw e;
  }
}

export function registerTxCommands(program: Command): void {
  const tx = program.command('tx').description('sign and submit transactions');

  withSenderOptions(
    tx
      .command('transfer')
      .description('transfer settlement currency to an address')
      .requiredOption('--to <address>', 'recipient (joule1...)')
      .requiredOption('--amount <micro>', 'amount in micro-units'),
  ).action(async (opts: TxOptions & { to: string; amount: string }) => {
    const to = parseTo(opts.to);
    const amount = parseAmount(opts.amount, 'amount');
    await sendTx(opts, (ctx, fee) => buildTransfer({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, to, amount }), {
      to: opts.to,
      amount: amount.toString(),
    });
  });

  registerValidatorVoteCommand(tx);
}
