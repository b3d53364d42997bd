import type { Command } from 'commander';
import { fromHexOrUndefined } from '../../core/bytes.ts';
import { canonicalTargets } from '../../core/command.ts';
import { MAX_FLEX_FLEET, MAX_FLEX_KW } from '../../core/flex.ts';
import type {
  FlexActivationJson,
  FlexActivationListJson,
  FlexBidJson,
  FlexBidListJson,
  FlexIntervalJson,
  FlexIntervalListJson,
} from '../../core/flex-query.ts';
import type { DeviceListJson } from '../../core/rpc-json.ts';
import { flexActivationKey, flexBidKey, flexIntervalKey } from '../../core/state-keys.ts';
import { buildFlexActivate } from '../../core/tx/flex-activate.ts';
import { buildFlexBid, describeFlexBid, type FlexBidBody } from '../../core/tx/flex-bid.ts';
import { buildFlexConfirm } from '../../core/tx/flex-confirm.ts';
import { buildFlexWithdraw } from '../../core/tx/flex-withdraw.ts';
import { intArg, timeArg } from '../args.ts';
import { CliError, rpcOption, type RpcClient } from '../rpc-client.ts';
import { addressOption, deviceIdArg } from './query-devices.ts';
import { printJson, printLines as print, readClient as client, type ReadOptions as BaseReadOptions } from './read-output.ts';
import { sendTx, withBodyErrors, withSenderOptions, type TxOptions } from './sender.ts';
import type { SenderArgs } from '../../core/tx/sign.ts';
import type { Tx } from '../../core/tx.ts';

/**
 * `joule flex bid|activate|confirm` (txs 42-44, signed with your key) and `joule flex
 * show|list`: flexibility bids and their dispatch. A bid without --device offers every
 * device the sender operates (resolved here through joule_listDevices). Every record is
 * printed with the state key `joule query proof 0x...` verifies.
 */

interface ReadOptions extends BaseReadOptions {
  limit?: string;
  cursor?: string;
}

const kwArg = (name: string) => intArg(name, 1, MAX_FLEX_KW);
const percentArg = (name: string) => intArg(name, 0, 100);

function idArg(v: string, what: string): Uint8Array {
  const b = fromHexOrUndefined(v);
  if (!v.startsWith('0x') || b === undefined || b.length !== 32)
    throw new CliError('INVALID_PARAMS', `${what} must be 0x and 32 bytes of hex (a tx hash), got ${JSON.stringify(v)}`, what);
  return b;
}

/**
 * The state key `joule query proof` proves for `flexbid:0xID` (a bid), `activation:0xID`
 * (an activation) or `activation:0xID@START` (how its interval from START, in ms, settled);
 * undefined for a key of another form.
 */
export function flexProofKey(key: string): Uint8Array | undefined {
  const kind = /^(flexbid|activation):/.exec(key)?.[1];
  if (kind === undefined) return undefined;
  const m = /^[a-z]+:(0x[0-9a-fA-F]{64})(?:@([0-9]{1,16}))?$/.exec(key);
  if (m === null) {
    const form =
      kind === 'flexbid'
        ? 'flexbid:0xID needs a bid id, 0x and 32 bytes of hex (the flex-bid tx hash)'
        : 'activation:0xID[@START] needs an activation id, 0x and 32 bytes of hex (the flex-activate tx hash), and optionally an interval start in ms';
    throw new CliError('INVALID_PARAMS', `${form}, got ${JSON.stringify(key)}`, 'key');
  }
  const [, hexId, start] = m;
  const id = fromHexOrUndefined(hexId!)!;
  if (start === undefined) return kind === 'flexbid' ? flexBidKey(id) : flexActivationKey(id);
  if (kind === 'flexbid') throw new CliError('INVALID_PARAMS', `flexbid:0xID takes no @START, got ${JSON.stringify(key)}`, 'key');
  if (!Number.isSafeInteger(Number(start)))
    throw new CliError('INVALID_PARAMS', `activation:0xID@START needs an interval start in ms, got ${JSON.stringify(key)}`, 'key');
  return flexIntervalKey(id, Number(start));
}

function priceArg(v: string): bigint {
  if (!/^[1-9][0-9]{0,18}$/.test(v))
    throw new CliError('INVALID_PARAMS', `--price must be a whole number of micro-units per MWh above 0, got ${JSON.stringify(v)}`, 'price');
  return BigInt(v);
}

/** Every device the sender operates, not revoked, sorted: the fleet of a bid without --device. */
async function operatedDevices(c: RpcClient, operator: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: DeviceListJson = await c.call<DeviceListJson>('joule_listDevices', [{ operator, limit: 100, ...(cursor === null ? {} : { cursor }) }]);
    for (const d of page.devices) if (d.status !== 'revoked') ids.push(d.id);
    if (ids.length > MAX_FLEX_FLEET)
      throw new CliError(
        'INVALID_PARAMS',
        `you operate more than ${MAX_FLEX_FLEET} devices: name the fleet with --device (one bid holds at most ${MAX_FLEX_FLEET})`,
        'device',
      );
    cursor = page.nextCursor;
  } while (cursor !== null);
  if (ids.length === 0) throw new CliError('NOT_FOUND', 'you operate no active device: register one first (joule device register)', 'device');
  return canonicalTargets(ids);
}

const when = (ms: number) => `${new Date(ms).toISOString()} (${ms})`;

function bidLines(b: FlexBidJson): string[] {
  return [
    `bid         ${b.id}`,
    `aggregator  ${b.aggregator}`,
    `fleet       ${b.deviceIds.join(', ')}`,
    `capacity    ${b.capacityKw} kW, ramps up ${b.rampUpKwPerMin} / down ${b.rampDownKwPerMin} kW/min, state of charge ${b.minSocPercent}-${b.maxSocPercent} %`,
    `price       ${b.pricePerMwh} per MWh`,
    `available   ${when(b.availableFromMs)} to ${when(b.availableUntilMs)}`,
    ...(b.reservedUntilMs === 0 ? [] : [`activated   until ${when(b.reservedUntilMs)}`]),
    `state key   ${b.stateKey}`,
  ];
}

function activationLines(a: FlexActivationJson): string[] {
  const settled = a.baselineWh === null ? [] : [`baseline    ${a.baselineWh} Wh per interval (mean of ${a.baselineIntervals} interval(s) before)`];
  return [
    `activation  ${a.id} (${a.status})`,
    `bid         ${a.bidId}`,
    `dso         ${a.dso}`,
    `power       ${a.powerKw} kW from ${when(a.startMs)} to ${when(a.endMs)} at ${a.pricePerMwh} per MWh`,
    a.confirmedAtMs === null ? `confirm by  ${when(a.confirmByMs)}` : `confirmed   ${when(a.confirmedAtMs)}`,
    `command     ${a.commandHash}`,
    ...settled,
    `settled     ${a.settledIntervals} interval(s): delivered ${a.deliveredWh} Wh, paid ${a.paid}, penalty ${a.penalty}; escrow left ${a.escrow}`,
    `state key   ${a.stateKey}`,
  ];
}

const intervalLine = (i: FlexIntervalJson) =>
  `${when(i.intervalStartMs)}  metered ${i.meteredWh} Wh, baseline ${i.baselineWh}, delivered ${i.deliveredWh}/${i.targetWh}, paid ${i.payment}, penalty ${i.penalty}  ${i.stateKey}`;

const more = (n: number, what: string, next: string | null) => (next === null ? `(${n} ${what}, end of list)` : `(${n} ${what}; more: --cursor ${next})`);

function registerTxs(flex: Command): void {
  withSenderOptions(
    flex
      .command('bid')
      .description('offer your fleet’s flexibility (you hold the aggregator role and operate its devices)')
      .option('--device <id...>', 'the fleet (default: every device you operate)')
      .requiredOption('--capacity <kW>', 'the power the fleet can shift, kW', kwArg('capacity'))
      .requiredOption('--ramp-up <kW/min>', 'ramp up rate, kW per minute', kwArg('ramp-up'))
      .requiredOption('--ramp-down <kW/min>', 'ramp down rate, kW per minute', kwArg('ramp-down'))
      .requiredOption('--min-soc <percent>', 'lowest state of charge the fleet keeps', percentArg('min-soc'))
      .requiredOption('--max-soc <percent>', 'highest state of charge the fleet keeps', percentArg('max-soc'))
      .requiredOption('--price <micro>', 'price, micro-units per MWh delivered')
      .requiredOption('--from <time>', 'available from (ms or ISO 8601)', timeArg('from'))
      .requiredOption('--until <time>', 'available until, exclusive (ms or ISO 8601)', timeArg('until')),
    '25',
  ).action(
    async (
      opts: TxOptions & {
        device?: string[];
        capacity: number;
        rampUp: number;
        rampDown: number;
        minSoc: number;
        maxSoc: number;
        price: string;
        from: number;
        until: number;
      },
    ) => {
      const price = priceArg(opts.price);
      const named = opts.device === undefined ? undefined : canonicalTargets(opts.device.map((d) => deviceIdArg(d, 'device')));
      // Filled in by the build (the fleet may come from the node): sendTx prints it after building.
      const summary: Record<string, unknown> = {};
      await sendTx(
        opts,
        async (ctx, fee) => {
          const body: FlexBidBody = {
            deviceIds: named ?? (await operatedDevices(ctx.client, ctx.address)),
            capacityKw: opts.capacity,
            rampUpKwPerMin: opts.rampUp,
            rampDownKwPerMin: opts.rampDown,
            minSocPercent: opts.minSoc,
            maxSocPercent: opts.maxSoc,
            pricePerMwh: price,
            availableFromMs: opts.from,
            availableUntilMs: opts.until,
          };
          const tx = withBodyErrors(() => buildFlexBid({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, ...body }));
          Object.assign(summary, describeFlexBid(body));
          return tx;
        },
        summary,
      );
    },
  );

  withSenderOptions(
    flex
      .command('activate')
      .description('activate a flexibility bid (you hold the dso role); escrows the payment and commands the fleet')
      .argument('<bidId>', 'the 0x bid id (the flex-bid tx hash)')
      .requiredOption('--power <kW>', 'power, kW (at most the bid’s capacity)', kwArg('power'))
      .requiredOption('--start <time>', 'window start (ms or ISO 8601), on a settlement interval boundary', timeArg('start'))
      .requiredOption('--end <time>', 'window end, exclusive (ms or ISO 8601), on a settlement interval boundary', timeArg('end')),
    '25',
  ).action(async (id: string, opts: TxOptions & { power: number; start: number; end: number }) => {
    const bidId = idArg(id, 'bidId');
    const body = { bidId, powerKw: opts.power, startMs: opts.start, endMs: opts.end };
    await sendTx(opts, (ctx, fee) => withBodyErrors(() => buildFlexActivate({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, ...body })), {
      bidId: id,
      powerKw: opts.power,
      startMs: opts.start,
      endMs: opts.end,
    });
  });

  /** A command that sends a tx naming one id: `<field>` is the argument's and the body's name. */
  const byId = (name: string, description: string, field: 'activationId' | 'bidId', help: string, build: (args: SenderArgs, id: Uint8Array) => Tx) =>
    withSenderOptions(flex.command(name).description(description).argument(`<${field}>`, help), '25').action(async (id: string, opts: TxOptions) => {
      const bytes = idArg(id, field);
      await sendTx(opts, (ctx, fee) => build({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee }, bytes), { [field]: id });
    });

  byId(
    'confirm',
    'confirm an activation of your bid, within 30 s of the block that activated it',
    'activationId',
    'the 0x activation id (the flex-activate tx hash)',
    (args, activationId) => buildFlexConfirm({ ...args, activationId }),
  );
  byId(
    'withdraw',
    'withdraw your bid: its availability ends now (or where its latest activation ends, which stands)',
    'bidId',
    'the 0x bid id (the flex-bid tx hash)',
    (args, bidId) => buildFlexWithdraw({ ...args, bidId }),
  );
}

function pageQuery(opts: ReadOptions): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (opts.limit !== undefined) q.limit = intArg('limit', 1, 100)(opts.limit);
  if (opts.cursor !== undefined) q.cursor = opts.cursor;
  return q;
}

function registerReads(flex: Command, common: (c: Command) => Command): void {
  common(
    flex.command('show').description('a flexibility bid, or an activation with its settled intervals').argument('<id>', 'a 0x bid or activation id'),
  ).action(async (id: string, opts: ReadOptions) => {
    const c = client(opts);
    const hex = `0x${Buffer.from(idArg(id, 'id')).toString('hex')}`;
    const bid = await c.call<FlexBidJson | null>('joule_getFlexBid', [hex]);
    if (bid !== null) return opts.json === true ? printJson({ bid }) : print(bidLines(bid));
    const activation = await c.call<FlexActivationJson | null>('joule_getFlexActivation', [hex]);
    if (activation === null) throw new CliError('NOT_FOUND', `no flexibility bid or activation has the id ${hex}`, 'id');
    const page = await c.call<FlexIntervalListJson>('joule_listFlexIntervals', [{ activationId: hex }]);
    if (opts.json === true) return printJson({ activation, intervals: page.intervals, nextCursor: page.nextCursor });
    print([
      ...activationLines(activation),
      ...page.intervals.map(intervalLine),
      ...(page.nextCursor === null ? [] : [more(page.intervals.length, 'interval(s)', page.nextCursor)]),
    ]);
  });

  common(
    flex
      .command('list')
      .description('an aggregator’s bids (--aggregator), or a bid’s activations (--bid)')
      .option('--aggregator <address>', 'joule1... address')
      .option('--bid <id>', 'a 0x bid id')
      .option('--limit <n>', 'at most n (1..100, default 100)')
      .option('--cursor <hex>', "continue after the previous page's cursor"),
  ).action(async (opts: ReadOptions & { aggregator?: string; bid?: string }) => {
    if ((opts.aggregator === undefined) === (opts.bid === undefined)) throw new CliError('INVALID_PARAMS', 'give one of --aggregator and --bid', 'aggregator');
    const c = client(opts);
    if (opts.aggregator !== undefined) {
      const page = await c.call<FlexBidListJson>('joule_listFlexBids', [{ aggregator: addressOption(opts.aggregator, 'aggregator'), ...pageQuery(opts) }]);
      if (opts.json === true) return printJson(page);
      return print([
        ...page.bids.map(
          (b) =>
            `${b.id}  ${String(b.capacityKw).padStart(8)} kW at ${b.pricePerMwh} per MWh, ${b.deviceIds.length} device(s), until ${when(b.availableUntilMs)}`,
        ),
        more(page.bids.length, 'bid(s)', page.nextCursor),
      ]);
    }
    const bidId = `0x${Buffer.from(idArg(opts.bid!, 'bid')).toString('hex')}`;
    const page = await c.call<FlexActivationListJson>('joule_listFlexActivations', [{ bidId, ...pageQuery(opts) }]);
    if (opts.json === true) return printJson(page);
    print([
      ...page.activations.map(
        (a) => `${a.id}  ${a.status.padEnd(9)} ${String(a.powerKw).padStart(8)} kW ${when(a.startMs)} to ${when(a.endMs)}, delivered ${a.deliveredWh} Wh`,
      ),
      more(page.activations.length, 'activation(s)', page.nextCursor),
    ]);
  });
}

export function registerFlexCommands(program: Command): void {
  const common = (cmd: Command): Command => cmd.addOption(rpcOption()).option('--json', 'print one JSON object');
  const flex = program.command('flex').description('flexibility: bids of aggregators’ fleets, their activation by a dso, confirmation and settlement');
  registerTxs(flex);
  registerReads(flex, common);
}
