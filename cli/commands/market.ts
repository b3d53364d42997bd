import type { Command } from 'commander';
import { fromHexOrUndefined } from '../../core/bytes.ts';
import { isZone } from '../../core/device.ts';
import { isPriced, parseOrderId, type Side } from '../../core/market.ts';
import type { MarketJson, MarketTradesJson, OrderBookJson, OrderJson, TradeJson, TradeListJson } from '../../core/market-json.ts';
import { marketBucketKey, MarketBucket, marketId, marketKey } from '../../core/state-keys.ts';
import { buildOrderCancel } from '../../core/tx/order-cancel.ts';
import { buildOrderPlace, describeOrderPlace } from '../../core/tx/order-place.ts';
import { intArg, timeArg } from '../args.ts';
import { CliError, rpcOption } from '../rpc-client.ts';
import { addressOption, deviceIdArg } from './query-devices.ts';
import { sendTx, withSenderOptions, type TxOptions } from './sender.ts';
import { printJson, printLines as print, readClient as client, type ReadOptions as BaseReadOptions } from './read-output.ts';

/**
 * `joule market order place|cancel`, `joule market book|result|trades|account`: the double
 * auction. Orders are signed txs (types 32, 33) submitted over JSON-RPC; reads page through
 * the node's books and trades, every record with the state key `joule query proof` verifies
 * (`market:ZONE@START`, `trade:ZONE@START#SEQ`, `settlement:ZONE@START#SEQ`).
 */

interface ReadOptions extends BaseReadOptions {
  limit?: string;
  cursor?: string;
}

function zoneArg(v: string): string {
  if (!isZone(v)) throw new CliError('INVALID_PARAMS', `zone must be 1-32 of letters, digits, ".", "_", ":", "-", got ${JSON.stringify(v)}`, 'zone');
  return v;
}

const startArg = (v: string): number => timeArg('interval')(v);

function wholeArg(v: string, what: string): bigint {
  if (!/^[1-9][0-9]{0,18}$/.test(v)) throw new CliError('INVALID_PARAMS', `--${what} must be a whole number above 0, got ${JSON.stringify(v)}`, what);
  return BigInt(v);
}

function orderIdArg(v: string): Uint8Array {
  const b = fromHexOrUndefined(v);
  if (!v.startsWith('0x') || b === undefined) throw new CliError('INVALID_PARAMS', `order id must be 0x hex, got ${JSON.stringify(v)}`, 'order');
  try {
    parseOrderId(b, 'order');
  } catch {
    throw new CliError('INVALID_PARAMS', `${v} is not an order id (the "order" of the order-placed event, or "id" in joule market book)`, 'order');
  }
  return b;
}

function pageQuery(opts: ReadOptions): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (opts.limit !== undefined) q.limit = intArg('limit', 1, 100)(opts.limit);
  if (opts.cursor !== undefined) q.cursor = opts.cursor;
  return q;
}

const when = (ms: number) => new Date(ms).toISOString();

function marketLines(m: MarketJson): string[] {
  return [
    `market      ${m.zone} ${when(m.intervalStartMs)} (${m.intervalStartMs})`,
    `status      ${m.status}`,
    m.status === 'open' ? `open        ${m.bids} bid(s), ${m.asks} ask(s)` : `orders      ${m.bids} bid(s), ${m.asks} ask(s) at gate closure`,
    ...(isPriced(m)
      ? [
          `price       ${m.price} per kWh (last matched bid ${m.lastBidPrice}, ask ${m.lastAskPrice})`,
          `traded      ${m.volumeWh} Wh in ${m.trades} trade(s)${m.recorded < m.trades ? ` (${m.recorded} written so far)` : ''}`,
        ]
      : []),
    `state key   ${m.stateKey} (prove it: joule query proof market:${m.zone}@${m.intervalStartMs})`,
  ];
}

const orderLine = (o: OrderJson) =>
  `${o.side.padEnd(3)} ${o.price.padStart(10)}  ${o.volumeWh.padStart(10)} Wh  ${o.owner}${o.deviceId === null ? '' : `  ${o.deviceId}`}  ${o.id}`;

function tradeLine(t: TradeJson): string {
  const s = t.settlement;
  const settled = s === null ? 'not settled' : `delivered ${s.deliveredWh} Wh, paid ${s.payment}, penalty ${s.penalty}`;
  return `${t.zone}@${t.intervalStartMs}#${t.seq}  ${t.volumeWh.padStart(8)} Wh at ${t.price}  ${t.seller} -> ${t.buyer} (${t.deviceId})  ${settled}`;
}

const more = (n: number, what: string, next: string | null) => (next === null ? `(${n} ${what}, end of list)` : `(${n} ${what}; more: --cursor ${next})`);

function registerOrders(market: Command): void {
  const order = market.command('order').description('place or cancel an order (signed with your key)');
  withSenderOptions(
    order
      .command('place')
      .description('a bid (buy) or an ask (sell) in the market ZONE for the interval starting at START; a bid escrows ceil(volume x price / 1000)')
      .requiredOption('--side <side>', 'bid or ask')
      .requiredOption('--zone <zone>', 'the market zone')
      .requiredOption('--interval <start>', "the delivery interval's start (ms or ISO 8601), a multiple of the settlement interval", startArg)
      .requiredOption('--volume <wh>', 'volume, Wh')
      .requiredOption('--price <micro>', 'limit price, micro-units per kWh (at most the chain price cap)')
      .option('--device <id>', "an ask's delivering device (required), a bid's consuming device (optional)"),
  ).action(async (opts: TxOptions & { side: string; zone: string; interval: number; volume: string; price: string; device?: string }) => {
    if (opts.side !== 'bid' && opts.side !== 'ask') throw new CliError('INVALID_PARAMS', `--side must be bid or ask, got ${JSON.stringify(opts.side)}`, 'side');
    const body = {
      side: opts.side as Side,
      zone: zoneArg(opts.zone),
      intervalStartMs: opts.interval,
      volumeWh: wholeArg(opts.volume, 'volume'),
      price: wholeArg(opts.price, 'price'),
      deviceId: opts.device === undefined ? undefined : deviceIdArg(opts.device, 'device'),
    };
    await sendTx(opts, (ctx, fee) => buildOrderPlace({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, ...body }), describeOrderPlace(body));
  });

  withSenderOptions(
    order
      .command('cancel')
      .description('withdraw your open order before its gate closure; its escrow or collateral is refunded in full')
      .argument('<orderId>', 'the 0x order id (the order-placed event, or joule market book)'),
  ).action(async (id: string, opts: TxOptions) => {
    const orderId = orderIdArg(id);
    await sendTx(opts, (ctx, fee) => buildOrderCancel({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, orderId }), { orderId: id });
  });
}

function registerReads(market: Command, common: (c: Command) => Command): void {
  const paged = (c: Command) =>
    common(c).option('--limit <n>', 'at most n (1..100, default 100)').option('--cursor <hex>', "continue after the previous page's cursor");
  const at = (c: Command) => c.argument('<zone>', 'the market zone').argument('<start>', "the delivery interval's start (ms or ISO 8601)");

  common(at(market.command('result').description("a market's state: open orders before gate closure, the clearing result after"))).action(
    async (zone: string, start: string, opts: ReadOptions) => {
      const m = await client(opts).call<MarketJson | null>('joule_getMarket', [zoneArg(zone), startArg(start)]);
      if (m === null) throw new CliError('NOT_FOUND', `no order was ever placed in the market ${zone} ${start}`);
      if (opts.json === true) return printJson(m);
      print(marketLines(m));
    },
  );

  paged(at(market.command('book').description("a market's open orders, best first (both sides, or --side)")).option('--side <side>', 'bid or ask')).action(
    async (zone: string, start: string, opts: ReadOptions & { side?: string }) => {
      if (opts.side !== undefined && opts.side !== 'bid' && opts.side !== 'ask')
        throw new CliError('INVALID_PARAMS', `--side must be bid or ask, got ${JSON.stringify(opts.side)}`, 'side');
      if (opts.side === undefined && opts.cursor !== undefined) throw new CliError('INVALID_PARAMS', '--cursor continues one side: give --side too', 'cursor');
      const c = client(opts);
      const sides: Side[] = opts.side === undefined ? ['bid', 'ask'] : [opts.side as Side];
      const q = { zone: zoneArg(zone), intervalStartMs: startArg(start), ...pageQuery(opts) };
      const pages = await Promise.all(sides.map((side) => c.call<OrderBookJson>('joule_getOrderBook', [{ ...q, side }])));
      if (opts.json === true) return printJson(opts.side === undefined ? { bids: pages[0], asks: pages[1] } : pages[0]);
      const m = pages[0]!.market;
      print([
        m === null ? `market      ${zone} ${when(q.intervalStartMs)}: no orders` : `market      ${m.zone} ${when(m.intervalStartMs)}, ${m.status}`,
        ...pages.flatMap((p) => [...p.orders.map(orderLine), more(p.orders.length, `${p.side}(s)`, p.nextCursor)]),
      ]);
    },
  );

  paged(at(market.command('trades').description("a market's trades at its clearing price, each with its settlement once metered"))).action(
    async (zone: string, start: string, opts: ReadOptions) => {
      const page = await client(opts).call<MarketTradesJson>('joule_getMarketTrades', [
        { zone: zoneArg(zone), intervalStartMs: startArg(start), ...pageQuery(opts) },
      ]);
      if (opts.json === true) return printJson(page);
      print([...(page.market === null ? [] : marketLines(page.market)), ...page.trades.map(tradeLine), more(page.trades.length, 'trade(s)', page.nextCursor)]);
    },
  );

  paged(
    market.command('account').description("an account's trades, as buyer or seller, and their settlements").argument('<address>', 'joule1... address'),
  ).action(async (address: string, opts: ReadOptions) => {
    const page = await client(opts).call<TradeListJson>('joule_getAccountTrades', [{ account: addressOption(address, 'address'), ...pageQuery(opts) }]);
    if (opts.json === true) return printJson(page);
    print([...page.trades.map(tradeLine), more(page.trades.length, 'trade(s)', page.nextCursor)]);
  });
}

/** `market:ZONE@START`, `trade:ZONE@START#SEQ`, `settlement:ZONE@START#SEQ` as state keys (joule query proof); undefined for other forms. */
export function marketProofKey(key: string): Uint8Array | undefined {
  const m = /^(market|trade|settlement):([^@]+)@([0-9]{1,16})(?:#([0-9]{1,10}))?$/.exec(key);
  if (m === null) {
    if (/^(market|trade|settlement):/.test(key))
      throw new CliError(
        'INVALID_PARAMS',
        `${key.split(':')[0]}: needs ZONE@START${key.startsWith('market:') ? '' : '#SEQ'}, got ${JSON.stringify(key)}`,
        'key',
      );
    return undefined;
  }
  const [, kind, zone, start, seq] = m;
  const intervalStartMs = Number(start);
  zoneArg(zone!);
  if (kind === 'market') {
    if (seq !== undefined) throw new CliError('INVALID_PARAMS', `market:ZONE@START takes no #SEQ, got ${JSON.stringify(key)}`, 'key');
    return marketKey(zone!, intervalStartMs);
  }
  if (seq === undefined || Number(seq) > 0xffffffff)
    throw new CliError('INVALID_PARAMS', `${kind}:ZONE@START#SEQ needs a trade number, got ${JSON.stringify(key)}`, 'key');
  const s = new Uint8Array(4);
  new DataView(s.buffer).setUint32(0, Number(seq));
  return marketBucketKey(kind === 'trade' ? MarketBucket.trade : MarketBucket.settlement, marketId(zone!, intervalStartMs), s);
}

export function registerMarketCommands(program: Command): void {
  const common = (cmd: Command): Command => cmd.addOption(rpcOption()).option('--json', 'print one JSON object');
  const market = program.command('market').description('the double auction: place and cancel orders; books, clearing results, trades and settlements');
  registerOrders(market);
  registerReads(market, common);
}
