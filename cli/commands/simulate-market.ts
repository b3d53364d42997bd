import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { toHex } from '../../core/bytes.ts';
import type { MarketJson } from '../../core/market-json.ts';
import { DEVNET_PARAMS, type ChainParams } from '../../core/params.ts';
import type { DeviceListJson, TransactionJson } from '../../core/rpc-json.ts';
import { buildOrderPlace } from '../../core/tx/order-place.ts';
import { loadGenesis } from '../../genesis/files.ts';
import { intArg } from '../args.ts';
import { nextOpenInterval, planMarket, type PlanDevice, type PlannedOrder } from '../market-plan.ts';
import { readDevnetFile } from '../devnet-file.ts';
import { CliError, resolveRpcUrl, rpcOption, RpcClient } from '../rpc-client.ts';
import { loadKey } from './keys.ts';
import { parseAmount } from './sender.ts';

/**
 * `joule simulate market`: a small local energy market on a devnet, among the accounts of
 * the key files given. Each round it picks the next market of `--zone` whose gate closes
 * at least `--margin` seconds from now; an account that owns active devices in the zone
 * sells (an ask per device, within its export limit over the interval), every other one
 * buys (a bid), prices in [--min-price, --max-price], reproducible from --seed. It waits
 * until the orders are final, then until the market has cleared, and prints its clearing
 * price, volume and trades. The devices' metered export in that interval settles the
 * trades afterwards (`joule market trades ZONE START` shows them).
 *
 * `--devnet DIR` takes the funded `account-<j>` accounts of a `joule devnet` home (account-0
 * owns the fleet of `joule simulate devices --devnet DIR`) and its first node.
 */

interface MarketSimOptions {
  devnet?: string;
  genesis?: string;
  key: string[];
  rpc?: string;
  zone: string;
  markets?: number;
  minPrice: string;
  maxPrice: string;
  margin: number;
  seed: number;
  fee: string;
  json?: boolean;
}

interface Trader {
  readonly address: string;
  readonly seed: Uint8Array;
  nonce: number;
}

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const say = (opts: MarketSimOptions, line: string, json: Record<string, unknown>): void =>
  void process.stdout.write(`${opts.json === true ? JSON.stringify(json) : line}\n`);

/** The devnet home's funded accounts' key files (keys/account-<j>.key). */
export function devnetAccountKeys(dir: string): string[] {
  const keys = join(dir, 'keys');
  if (!existsSync(keys)) throw new CliError('INVALID_PARAMS', `${dir} is not a devnet home (no keys/ folder)`, 'devnet');
  return readdirSync(keys)
    .filter((e) => /^account-[0-9]+\.key$/.test(e))
    .sort((a, b) => Number(a.slice(8, -4)) - Number(b.slice(8, -4)))
    .map((e) => join(keys, e));
}

/** The devnet's first node (its manifest, devnet.json), waited for: `joule devnet` may still be starting it. */
async function devnetClient(dir: string): Promise<RpcClient> {
  const client = new RpcClient(readDevnetFile(dir).nodes[0]!.rpc);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await client.call('joule_status');
      return client;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(500);
    }
  }
}

async function trader(client: RpcClient, file: string): Promise<Trader> {
  const key = await loadKey(file, undefined, 'ed25519');
  const { nonce } = await client.call<{ nonce: number }>('joule_getAccount', [key.address]);
  return { address: key.address!, seed: key.secret, nonce };
}

/** The traders' active devices in the zone: asks deliver from them. */
async function devicesOf(client: RpcClient, traders: ReadonlyMap<string, Trader>, zone: string): Promise<PlanDevice[]> {
  const out: PlanDevice[] = [];
  const mine = traders;
  let cursor: string | null = null;
  do {
    const page: DeviceListJson = await client.call<DeviceListJson>('joule_listDevices', [{ zone, limit: 100, ...(cursor === null ? {} : { cursor }) }]);
    for (const d of page.devices) if (mine.has(d.owner) && d.status === 'active') out.push({ id: d.id, owner: d.owner, maxExportW: d.maxExportW });
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

async function waitFinal(client: RpcClient, hashes: readonly string[], timeoutMs: number): Promise<TransactionJson[]> {
  const deadline = Date.now() + timeoutMs;
  const out: TransactionJson[] = [];
  for (const h of hashes) {
    for (;;) {
      const t = await client.call<TransactionJson | null>('joule_getTransaction', [h]);
      if (t !== null) {
        out.push(t);
        break;
      }
      if (Date.now() > deadline) throw new CliError('TX_WAIT_TIMEOUT', `order ${h} is not final after ${timeoutMs / 1000}s`);
      await sleep(POLL_MS);
    }
  }
  return out;
}

async function waitCleared(client: RpcClient, zone: string, start: number, timeoutMs: number): Promise<MarketJson | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await client.call<MarketJson | null>('joule_getMarket', [zone, start]);
    if (m === null || m.status === 'cleared') return m;
    if (Date.now() > deadline) throw new CliError('MARKET_WAIT_TIMEOUT', `the market ${zone}@${start} has not cleared ${timeoutMs / 1000}s after its gate`);
    await sleep(POLL_MS);
  }
}

async function place(client: RpcClient, chainId: string, traders: Map<string, Trader>, o: PlannedOrder, zone: string, start: number, fee: bigint) {
  const t = traders.get(o.account)!;
  const tx = buildOrderPlace({
    chainId,
    seed: t.seed,
    nonce: t.nonce,
    fee,
    side: o.side,
    zone,
    intervalStartMs: start,
    volumeWh: o.volumeWh,
    price: o.price,
    deviceId: o.deviceId,
  });
  const { hash } = await client.call<{ hash: string }>('joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`]);
  t.nonce++;
  return hash;
}

async function simulateMarket(opts: MarketSimOptions): Promise<void> {
  const files = [...(opts.devnet === undefined ? [] : devnetAccountKeys(opts.devnet)), ...opts.key];
  if (files.length < 2)
    throw new CliError('INVALID_PARAMS', 'name at least two accounts, a seller and a buyer: --devnet DIR, or --key FILE twice or more', 'key');
  const genesisFile = opts.genesis ?? (opts.devnet === undefined ? undefined : join(opts.devnet, 'genesis.json'));
  const params: ChainParams = genesisFile === undefined ? DEVNET_PARAMS : loadGenesis(genesisFile).params;
  const minPrice = parseAmount(opts.minPrice, 'min-price');
  const maxPrice = parseAmount(opts.maxPrice, 'max-price');
  if (maxPrice < minPrice || maxPrice > params.priceCap)
    throw new CliError('INVALID_PARAMS', `--max-price must be between --min-price and the chain's price cap (${params.priceCap})`, 'max-price');
  const fee = parseAmount(opts.fee, 'fee', true);
  const client = opts.devnet !== undefined && opts.rpc === undefined ? await devnetClient(opts.devnet) : new RpcClient(resolveRpcUrl(opts.rpc));
  const { chainId } = await client.call<{ chainId: string }>('joule_status');
  const traders = new Map<string, Trader>();
  for (const f of files) {
    const t = await trader(client, f);
    traders.set(t.address, t);
  }
  const len = params.settlementIntervalMs;

  for (let round = 0; opts.markets === undefined || round < opts.markets; round++) {
    const devices = await devicesOf(client, traders, opts.zone);
    if (devices.length === 0) say(opts, `no active device of these accounts in zone ${opts.zone} yet: bids only`, { event: 'no-devices', zone: opts.zone });
    const start = nextOpenInterval(Date.now(), len, params.gateClosureLeadMs, opts.margin * 1000);
    const plan = planMarket({ buyers: [...traders.keys()], devices, intervalMs: len, minPrice, maxPrice, seed: opts.seed + round });
    const hashes: string[] = [];
    for (const o of plan) hashes.push(await place(client, chainId, traders, o, opts.zone, start, fee));
    const receipts = await waitFinal(client, hashes, 60_000);
    const failed = receipts.filter((t) => !t.receipt.success);
    // A failed order moved its sender's nonce anyway; a refused one did not: ask the chain again.
    for (const t of traders.values()) t.nonce = (await client.call<{ nonce: number }>('joule_getAccount', [t.address])).nonce;
    const bids = plan.filter((o) => o.side === 'bid').length;
    say(
      opts,
      `market ${opts.zone}@${start} (${new Date(start).toISOString()}): ${bids} bid(s), ${plan.length - bids} ask(s) placed${failed.length === 0 ? '' : `, ${failed.length} failed (${[...new Set(failed.map((t) => t.receipt.code))].join(', ')})`}; gate closes in ${Math.max(0, Math.round((start - params.gateClosureLeadMs - Date.now()) / 1000))} s`,
      { event: 'placed', zone: opts.zone, intervalStartMs: start, bids, asks: plan.length - bids, failed: failed.map((t) => t.receipt.code), orders: hashes },
    );
    await sleep(Math.max(0, start - params.gateClosureLeadMs - Date.now()));
    const m = await waitCleared(client, opts.zone, start, 60_000);
    if (m === null) continue;
    say(
      opts,
      `market ${opts.zone}@${start} cleared: ${m.trades === 0 ? 'no trade (no bid at or above an ask)' : `${m.volumeWh} Wh in ${m.trades} trade(s) at ${m.price} per kWh`} (${m.bids} bid(s), ${m.asks} ask(s))`,
      { event: 'cleared', zone: opts.zone, intervalStartMs: start, price: m.price, volumeWh: m.volumeWh, trades: m.trades, bids: m.bids, asks: m.asks },
    );
  }
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerSimulateMarket(simulate: Command): void {
  simulate
    .command('market')
    .description(
      'a small energy market on a devnet: every round, asks for the devices the accounts own and bids from the others in the next open market, then its clearing',
    )
    .option('--devnet <dir>', 'a `joule devnet` home: its account-<j> accounts trade (account-0 owns the simulated fleet), through its first node')
    .option(
      '--genesis <file>',
      'the chain genesis, for its settlement interval, gate closure lead and price cap (default: --devnet DIR/genesis.json, else the devnet defaults)',
    )
    .option('--key <file>', 'an account key (repeatable): an owner of active devices in --zone sells their export, any other account buys', collect, [])
    .addOption(rpcOption())
    .option('--zone <zone>', 'the market zone (the fleet of joule simulate devices is in SIM)', 'SIM')
    .option('--markets <n>', 'stop after n markets (default: until stopped)', intArg('markets', 1, 1_000_000))
    .option('--min-price <micro>', 'lowest limit price, micro-units per kWh', '50000')
    .option('--max-price <micro>', 'highest limit price, micro-units per kWh', '250000')
    .option('--margin <s>', 'seconds between placing and the gate closure at least', intArg('margin', 1, 3600), 3)
    .option('--seed <n>', 'the orders derive from this (the same seed, the same orders)', intArg('seed', 0, 2 ** 32 - 1), 1)
    .option('--fee <micro>', 'fee of each order', '25')
    .option('--json', 'one JSON object per line')
    .action(async (opts: MarketSimOptions) => simulateMarket(opts));
}
