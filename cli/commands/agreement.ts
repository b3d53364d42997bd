import type { Command } from 'commander';
import { HOURS_PER_DAY, type PartyRole, type PriceFormula } from '../../core/agreement.ts';
import type { AgreementDetailJson } from '../../core/agreement-json.ts';
import { parseAddress } from '../../core/keys.ts';
import {
  buildAgreementCollateralise,
  buildAgreementDispute,
  buildAgreementSign,
  buildAgreementVote,
  buildAgreementWithdraw,
} from '../../core/tx/agreement-actions.ts';
import { buildAgreementPropose, describeAgreementPropose } from '../../core/tx/agreement-propose.ts';
import { intArg, timeArg } from '../args.ts';
import { CliError, rpcOption, type RpcClient } from '../rpc-client.ts';
import { agreementIdArg, registerAgreementReads } from './agreement-reads.ts';
import { addressOption, deviceIdArg } from './query-devices.ts';
import { parseAmount, sendTx, withSenderOptions, type SenderContext, type TxOptions } from './sender.ts';

/**
 * `joule agreement propose|sign|withdraw|collateralise|dispute|vote`: bilateral agreements
 * as signed txs (types 34-39) submitted over JSON-RPC, and `show|list` (agreement-reads.ts).
 * The dispute and the vote carry the parties' addresses (a tx declares the accounts it may
 * pay from its bytes alone), so they read the agreement first to fill them in.
 */

function roleArg(v: string, what: string): PartyRole {
  if (v !== 'buyer' && v !== 'seller') throw new CliError('INVALID_PARAMS', `--${what} must be buyer or seller, got ${JSON.stringify(v)}`, what);
  return v;
}

function wholeArg(v: string, what: string, allowZero = false): bigint {
  if (!(allowZero ? /^(0|[1-9][0-9]{0,18})$/ : /^[1-9][0-9]{0,18}$/).test(v))
    throw new CliError('INVALID_PARAMS', `--${what} must be a whole number${allowZero ? '' : ' above 0'}, got ${JSON.stringify(v)}`, what);
  return BigInt(v);
}

interface PriceOptions {
  price?: string;
  tou?: string;
  marketPremium?: string;
  fallback?: string;
}

/** Exactly one formula: --price (fixed), --tou (24 prices by hour, UTC) or --market-premium with --fallback. */
function priceFormula(o: PriceOptions): PriceFormula {
  const given = [o.price, o.tou, o.marketPremium].filter((x) => x !== undefined).length;
  if (given !== 1) throw new CliError('INVALID_PARAMS', 'give exactly one price: --price, --tou or --market-premium (with --fallback)', 'price');
  if (o.fallback !== undefined && o.marketPremium === undefined) throw new CliError('INVALID_PARAMS', '--fallback goes with --market-premium', 'fallback');
  if (o.price !== undefined) return { kind: 'fixed', price: wholeArg(o.price, 'price') };
  if (o.tou !== undefined) {
    const parts = o.tou.split(',');
    if (parts.length !== HOURS_PER_DAY)
      throw new CliError('INVALID_PARAMS', `--tou must be ${HOURS_PER_DAY} comma-separated prices (hours 0..23 UTC), got ${parts.length}`, 'tou');
    return { kind: 'time-of-use', table: parts.map((p) => wholeArg(p.trim(), 'tou')) };
  }
  if (o.fallback === undefined)
    throw new CliError('INVALID_PARAMS', '--market-premium needs --fallback (the price where the market did not clear)', 'fallback');
  return { kind: 'market', premium: wholeArg(o.marketPremium!, 'market-premium', true), fallback: wholeArg(o.fallback, 'fallback') };
}

/** Reads the agreement a dispute or vote names (its parties), or says why not. */
async function readAgreement(client: RpcClient, id: string): Promise<AgreementDetailJson> {
  const a = await client.call<AgreementDetailJson | null>('joule_getAgreement', [id, { limit: 1 }]);
  if (a === null) throw new CliError('NOT_FOUND', `no agreement ${id} (its id is the hash of the agreement-propose tx)`, 'id');
  return a;
}

const txArgs = (ctx: SenderContext, fee: bigint) => ({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee });

function registerPropose(agreement: Command): void {
  withSenderOptions(
    agreement
      .command('propose')
      .description("propose an agreement to the counterparty: QUANTITY Wh from the seller's DEVICE in each of SLOTS settlement intervals from FIRST-SLOT")
      .requiredOption('--role <role>', 'your side: buyer or seller')
      .requiredOption('--counterparty <address>', 'the other party (joule1...)')
      .requiredOption('--device <id>', "the seller's delivering device")
      .requiredOption('--quantity <wh>', 'Wh per slot')
      .requiredOption('--first-slot <start>', "the first slot's start (ms or ISO 8601), a multiple of the settlement interval", timeArg('first-slot'))
      .requiredOption('--slots <n>', 'number of slots, back to back (1..2880)', intArg('slots', 1, 2880))
      .option('--price <micro>', 'a fixed price, micro-units per kWh')
      .option('--tou <prices>', "24 comma-separated prices, micro-units per kWh, by the slot start's hour (UTC)")
      .option('--market-premium <micro>', "the zone market's clearing price plus this")
      .option('--fallback <micro>', 'with --market-premium: the price where the market did not clear')
      .requiredOption(
        '--collateral-bps <bps>',
        'collateral each party posts, basis points of the contract value (1000..2000)',
        intArg('collateral-bps', 1000, 2000),
      ),
  ).action(
    async (
      opts: TxOptions &
        PriceOptions & { role: string; counterparty: string; device: string; quantity: string; firstSlot: number; slots: number; collateralBps: number },
    ) => {
      const body = {
        role: roleArg(opts.role, 'role'),
        counterparty: parseAddress(addressOption(opts.counterparty, 'counterparty'), 'counterparty'),
        deviceId: deviceIdArg(opts.device, 'device'),
        quantityWh: wholeArg(opts.quantity, 'quantity'),
        firstSlotMs: opts.firstSlot,
        slots: opts.slots,
        price: priceFormula(opts),
        collateralBps: opts.collateralBps,
      };
      // The agreement's id is this tx's hash: the `hash` printed (and the agreement-proposed event).
      await sendTx(opts, (ctx, fee) => buildAgreementPropose({ ...txArgs(ctx, fee), ...body }), describeAgreementPropose(body));
    },
  );
}

function registerActions(agreement: Command): void {
  const idArgument = (c: Command) => c.argument('<id>', 'the agreement id (0x..., the agreement-propose tx hash)');
  withSenderOptions(idArgument(agreement.command('sign').description("sign the counterparty's proposal; a cooling-off of 60 s starts"))).action(
    async (id: string, opts: TxOptions) => {
      const b = agreementIdArg(id);
      await sendTx(opts, (ctx, fee) => buildAgreementSign({ ...txArgs(ctx, fee), id: b }), { id });
    },
  );
  withSenderOptions(
    idArgument(agreement.command('withdraw').description('withdraw a proposal (either party), or a signed agreement during its cooling-off')),
  ).action(async (id: string, opts: TxOptions) => {
    const b = agreementIdArg(id);
    await sendTx(opts, (ctx, fee) => buildAgreementWithdraw({ ...txArgs(ctx, fee), id: b }), { id });
  });
  withSenderOptions(
    idArgument(
      agreement
        .command('collateralise')
        .description('post collateral from your balance (after the cooling-off, before the first slot; later a top-up that meets a margin call)'),
    ).requiredOption('--amount <micro>', 'micro-units (joule agreement show prints the level)'),
  ).action(async (id: string, opts: TxOptions & { amount: string }) => {
    const b = agreementIdArg(id);
    const amount = parseAmount(opts.amount, 'amount');
    await sendTx(opts, (ctx, fee) => buildAgreementCollateralise({ ...txArgs(ctx, fee), id: b, amount }), { id, amount: amount.toString() });
  });
  withSenderOptions(
    idArgument(
      agreement.command('dispute').description('claim the other party owes AMOUNT (while executing, or within 48 h of settlement); it is frozen until decided'),
    ).requiredOption('--amount <micro>', 'the claim, micro-units (you lock 1 % of it as a deposit)'),
  ).action(async (id: string, opts: TxOptions & { amount: string }) => {
    const b = agreementIdArg(id);
    const amount = parseAmount(opts.amount, 'amount');
    // The summary is printed after the build, which names the counterparty.
    const summary: Record<string, unknown> = { id, amount: amount.toString() };
    await sendTx(
      opts,
      async (ctx, fee) => {
        const { terms } = await readAgreement(ctx.client, id);
        if (ctx.address !== terms.buyer && ctx.address !== terms.seller)
          throw new CliError('AGREEMENT_NOT_PARTY', `${ctx.address} is neither the buyer nor the seller of ${id}`, 'key');
        summary.counterparty = ctx.address === terms.buyer ? terms.seller : terms.buyer;
        return buildAgreementDispute({ ...txArgs(ctx, fee), id: b, amount, counterparty: parseAddress(summary.counterparty as string) });
      },
      summary,
    );
  });
  withSenderOptions(
    idArgument(agreement.command('vote').description("a validator's vote on the agreement's open dispute")).requiredOption('--for <party>', 'buyer or seller'),
  ).action(async (id: string, opts: TxOptions & { for: string }) => {
    const b = agreementIdArg(id);
    const decision = roleArg(opts.for, 'for');
    await sendTx(
      opts,
      async (ctx, fee) => {
        const a = await readAgreement(ctx.client, id);
        if (a.dispute === null || a.dispute.decidedFor !== null)
          throw new CliError('AGREEMENT_DISPUTED', `${id} has no open dispute${a.dispute === null ? '' : ` (decided for the ${a.dispute.decidedFor})`}`, 'id');
        return buildAgreementVote({ ...txArgs(ctx, fee), id: b, decision, buyer: parseAddress(a.terms.buyer), seller: parseAddress(a.terms.seller) });
      },
      { id, decision },
    );
  });
}

export function registerAgreementCommands(program: Command): void {
  const common = (cmd: Command): Command => cmd.addOption(rpcOption()).option('--json', 'print one JSON object');
  const agreement = program
    .command('agreement')
    .description("bilateral agreements: propose, sign, withdraw, collateralise, dispute, vote; show one, list an account's");
  registerPropose(agreement);
  registerActions(agreement);
  registerAgreementReads(agreement, common);
}
