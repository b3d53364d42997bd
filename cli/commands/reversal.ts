import type { Command } from 'commander';
import { toHex, u32be } from '../../core/bytes.ts';
import { isZone } from '../../core/device.ts';
import { parseAddress } from '../../core/keys.ts';
import type { MarketTradesJson, TradeJson } from '../../core/market-json.ts';
import { checkReason, settlementRefBytes, type ReversalTarget } from '../../core/reversal.ts';
import type { GovernorsJson, ReversalJson } from '../../core/reversal-json.ts';
import { ReversalBucket, reversalBucketKey } from '../../core/state-keys.ts';
import { buildReversalApprove } from '../../core/tx/reversal-approve.ts';
import { buildReversalPropose } from '../../core/tx/reversal-propose.ts';
import { intArg, timeArg } from '../args.ts';
import { CliError, rpcOption, type RpcClient } from '../rpc-client.ts';
import { printJson, printLines as print, readClient as client, type ReadOptions } from './read-output.ts';
import { sendTx, withBodyErrors, withSenderOptions, type TxOptions } from './sender.ts';

/**
 * `joule reversal propose|approve|show|governors`: governed reversal of a market
 * settlement. A governor proposes (type 46) with a reason, others approve (type 47) by the
 * reversal's id; the k-th approval moves the settlement's amounts back or fails whole.
 * The txs name the trade's buyer and seller (their reads are declared from the tx's bytes):
 * the CLI looks them up on the node, so the operator names only the settlement or the id.
 */

interface Ref {
  readonly zone: string;
  readonly intervalStartMs: number;
  readonly seq: number;
}

/** `ZONE@START#SEQ` (START in ms or ISO 8601), the notation of `joule market trades` and `settlement:` proofs. */
export function settlementArg(v: string): Ref {
  const m = /^([^@]+)@([^#]+)#([0-9]{1,10})$/.exec(v);
  if (m === null || !isZone(m[1]) || Number(m[3]) > 0xffff_ffff)
    throw new CliError('INVALID_PARAMS', `a settlement is ZONE@START#SEQ (as joule market trades prints it), got ${JSON.stringify(v)}`, 'settlement');
  return { zone: m[1]!, intervalStartMs: timeArg('settlement')(m[2]!), seq: Number(m[3]) };
}

/**
 * The state key `joule query proof` proves for `reversal:ZONE@START#SEQ` (the reversal of
 * that settlement, START in ms as in `settlement:` proofs) or `governors` (the governor
 * set); undefined for a key of another form.
 */
export function reversalProofKey(key: string): Uint8Array | undefined {
  if (key === 'governors') return reversalBucketKey(ReversalBucket.governors);
  if (!key.startsWith('reversal:')) return undefined;
  const m = /^reversal:([^@]+)@([0-9]{1,16})#([0-9]{1,10})$/.exec(key);
  if (m === null || !isZone(m[1]) || !Number.isSafeInteger(Number(m[2])) || Number(m[3]) > 0xffff_ffff)
    throw new CliError('INVALID_PARAMS', `reversal:ZONE@START#SEQ needs a zone, an interval start in ms and a trade number, got ${JSON.stringify(key)}`, 'key');
  return reversalBucketKey(ReversalBucket.bySettlement, settlementRefBytes({ zone: m[1]!, intervalStartMs: Number(m[2]), seq: Number(m[3]) }));
}

/** The trade `seq` of its market as the node lists it (one page of one, after seq - 1). */
async function tradeOf(c: RpcClient, r: Ref): Promise<TradeJson> {
  const cursor = r.seq === 0 ? {} : { cursor: `0x${toHex(u32be(r.seq - 1))}` };
  const page = await c.call<MarketTradesJson>('joule_getMarketTrades', [{ zone: r.zone, intervalStartMs: r.intervalStartMs, limit: 1, ...cursor }]);
  const t = page.trades[0];
  if (t === undefined || t.seq !== r.seq) throw new CliError('NOT_FOUND', `no trade ${r.seq} in the market ${r.zone} ${r.intervalStartMs}`, 'settlement');
  if (t.settlement === null)
    throw new CliError('REVERSAL_UNKNOWN_SETTLEMENT', `trade ${r.zone}@${r.intervalStartMs}#${r.seq} has not settled yet`, 'settlement');
  return t;
}

const targetOf = (r: Ref, buyer: string, seller: string): ReversalTarget => ({ ...r, buyer: parseAddress(buyer), seller: parseAddress(seller) });

const when = (ms: number) => new Date(ms).toISOString();

function reversalLines(r: ReversalJson): string[] {
  const s = r.settlement;
  return [
    `reversal    ${r.id}: ${r.zone}@${r.intervalStartMs}#${r.seq} (${when(r.intervalStartMs)})`,
    `status      ${r.status}${r.status === 'executed' ? ` in block ${r.executedHeight}` : ''} (proposed in block ${r.proposedHeight})`,
    `reason      ${r.reason}`,
    `approvals   ${r.approvers.length} of ${r.threshold ?? '?'}: ${r.approvers.join(', ')}`,
    `parties     seller ${r.seller}, buyer ${r.buyer}`,
    ...(s === null
      ? []
      : [
          `${r.status === 'executed' ? 'moved back ' : 'to move back'} payment ${s.payment} (seller -> buyer), penalty ${s.penalty} (buyer -> seller), ${s.deliveredWh} Wh (buyer -> seller)`,
        ]),
    ...(r.returnedUtxo === null ? [] : [`energy      ${r.returnedUtxo} (the seller's, returned)`]),
    `state key   ${r.stateKey} (prove it: joule query proof ${r.stateKey})`,
  ];
}

function registerTxs(reversal: Command): void {
  withSenderOptions(
    reversal
      .command('propose')
      .description("propose reversing a trade's settlement (you must be a governor); your proposal counts as your approval")
      .argument('<settlement>', 'ZONE@START#SEQ: the trade, as joule market trades prints it')
      .requiredOption('--reason <text>', 'why (1..512 bytes of UTF-8); recorded on chain with the reversal'),
  ).action(async (settlement: string, opts: TxOptions & { reason: string }) => {
    const ref = settlementArg(settlement);
    const reason = withBodyErrors(() => checkReason(opts.reason, 'tx.body.reason'));
    await sendTx(
      opts,
      async (ctx, fee) => {
        const t = await tradeOf(ctx.client, ref);
        return buildReversalPropose({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, ...targetOf(ref, t.buyer, t.seller), reason });
      },
      { settlement, reason },
    );
  });

  withSenderOptions(
    reversal
      .command('approve')
      .description('approve a proposed reversal (you must be a governor, once); the k-th approval executes it')
      .argument('<id>', 'the reversal id (joule reversal show, or the reversal-proposed event)', intArg('id', 1, Number.MAX_SAFE_INTEGER)),
  ).action(async (id: number, opts: TxOptions) => {
    await sendTx(
      opts,
      async (ctx, fee) => {
        const r = await ctx.client.call<ReversalJson | null>('joule_getReversal', [id]);
        if (r === null) throw new CliError('REVERSAL_UNKNOWN', `no reversal ${id}`, 'id');
        if (r.status !== 'open') throw new CliError('REVERSAL_ALREADY_REVERSED', `reversal ${id} was executed in block ${r.executedHeight}`, 'id');
        return buildReversalApprove({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, ...targetOf(r, r.buyer, r.seller) });
      },
      { reversal: id },
    );
  });
}

function registerReads(reversal: Command, common: (c: Command) => Command): void {
  common(
    reversal
      .command('show')
      .description('a reversal, by id or by the settlement it reverses, with its approvals and what it moves back')
      .argument('<ref>', 'a reversal id, or ZONE@START#SEQ'),
  ).action(async (ref: string, opts: ReadOptions) => {
    const byId = /^[0-9]{1,15}$/.test(ref);
    const r = byId
      ? await client(opts).call<ReversalJson | null>('joule_getReversal', [intArg('ref', 1, Number.MAX_SAFE_INTEGER)(ref)])
      : await client(opts).call<ReversalJson | null>('joule_getSettlementReversal', [settlementArg(ref)]);
    if (r === null) throw new CliError('NOT_FOUND', byId ? `no reversal ${ref}` : `no reversal of the settlement ${ref}`);
    if (opts.json === true) return printJson(r);
    print(reversalLines(r));
  });

  common(reversal.command('governors').description('the governors genesis names, and how many approve a reversal')).action(async (opts: ReadOptions) => {
    const g = await client(opts).call<GovernorsJson | null>('joule_getGovernors', []);
    if (g === null) throw new CliError('NOT_FOUND', 'this chain names no governors: no settlement can be reversed');
    if (opts.json === true) return printJson(g);
    print([`threshold   ${g.threshold} of ${g.governors.length}`, ...g.governors.map((a) => `governor    ${a}`), `state key   ${g.stateKey}`]);
  });
}

export function registerReversalCommands(program: Command): void {
  const common = (cmd: Command): Command => cmd.addOption(rpcOption()).option('--json', 'print one JSON object');
  const reversal = program.command('reversal').description('governed reversal of a market settlement: propose, approve (k governors), show');
  registerTxs(reversal);
  registerReads(reversal, common);
}
