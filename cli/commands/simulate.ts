import type { Command } from 'commander';
import { equalBytes, fromHexOrUndefined, toHex } from '../../core/bytes.ts';
import { DEVICE_KINDS, MAX_POWER_W, type DeviceKind } from '../../core/device.ts';
import { blsAggregateSignatures, blsSign, parseAddress } from '../../core/keys.ts';
import type { DeviceJson, StatusJson, TransactionJson } from '../../core/rpc-json.ts';
import { telemetrySigningBytes, type Reading } from '../../core/telemetry.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildDeviceStatus } from '../../core/tx/device-status.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import type { Tx } from '../../core/tx.ts';
import { intArg } from '../args.ts';
import { aggregateWithNoble, fleetDevice, fleetRegistration, signReading, type FleetDevice } from '../fleet.ts';
import { CliError, rpcOption } from '../rpc-client.ts';
import { loadKey, passphraseFileOption } from './keys.ts';
import { atFreeNonce, senderContext, type SenderContext } from './sender.ts';
import { FleetMeters } from '../fleet-meter.ts';
import { simulateOverGrpc } from './simulate-grpc.ts';
import { devnetAccountKeys, registerSimulateMarket } from './simulate-market.ts';

/**
 * `joule simulate devices`: a fleet of metered devices for a devnet. Registers `--count`
 * devices operated by the aggregator account (keys derived from `--seed`, each with its
 * proof of possession), then every `--every` seconds has each device sign a reading of
 * the energy it exported since its last one, and submits them as telemetry batches. The
 * devices sign with @noble/curves by default (an implementation independent of the
 * node's blst: every batch the chain accepts is an interop check); `--signer blst` is
 * about 50 times faster, for large fleets. When an interval settles the chain mints each
 * device's export as an energy token: `joule query intervals <device>` shows it.
 */

interface SimulateOptions {
  count: number;
  aggregatorKey?: string;
  devnet?: string;
  rate: number;
  badFraction: string;
  seconds?: number;
  report: number;
  passphraseFile?: string;
  rpc?: string;
  seed: string;
  prefix: string;
  kind: string;
  zone: string;
  owner?: string;
  maxExportW: number;
  exportW: number;
  every: number;
  batches?: number;
  signer: string;
  fee: string;
  json?: boolean;
  presign?: boolean;
}

const POLL_MS = 250;
const READINGS_PER_BATCH = 1000;

const say = (opts: SimulateOptions, line: string, json: Record<string, unknown>): void =>
  void (opts.json === true ? process.stdout.write(`${JSON.stringify(json)}\n`) : process.stdout.write(`${line}\n`));

async function waitFinal(ctx: SenderContext, hash: string, timeoutMs = 60_000): Promise<TransactionJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await ctx.client.call<TransactionJson | null>('joule_getTransaction', [hash]);
    if (t !== null) return t;
    if (Date.now() > deadline) throw new CliError('TX_WAIT_TIMEOUT', `transaction ${hash} is not final after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Waits until the node ctx talks to has committed `height`. */
async function waitHeight(ctx: SenderContext, height: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await ctx.client.call<StatusJson>('joule_status')).height < height) {
    if (Date.now() > deadline) throw new CliError('TX_WAIT_TIMEOUT', `the node has not reached height ${height} after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function send(ctx: SenderContext, tx: Tx): Promise<string> {
  return (await ctx.client.call<{ hash: string }>('joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`])).hash;
}

/**
 * Registers the devices not yet registered, and reactivates those the chain flagged for
 * inspection (a fleet stopped for a few intervals is flagged for missing data: as their
 * operator, the simulator has inspected them); refuses a device registered with another key
 * or operator. A device suspended or revoked stays so: its streams end with DEVICE_INACTIVE.
 */
async function register(ctx: SenderContext, fleet: readonly FleetDevice[], opts: SimulateOptions, nonce: { next: number }): Promise<void> {
  const owner = opts.owner === undefined ? parseAddress(ctx.address) : parseAddress(opts.owner, 'owner');
  const me = parseAddress(ctx.address);
  let last: string | undefined;
  let fresh = 0;
  let reactivated = 0;
  const sendNext = async (build: (nonce: number) => Tx): Promise<string> =>
    atFreeNonce({ ...ctx, nonce: nonce.next }, async (n) => {
      const hash = await send(ctx, build(n));
      nonce.next = n + 1;
      return hash;
    });
  for (const d of fleet) {
    const existing = await ctx.client.call<DeviceJson | null>('joule_getDevice', [d.id]);
    if (existing !== null) {
      if (!equalBytes(fromHexOrUndefined(existing.publicKey)!, d.publicKey) || !equalBytes(parseAddress(existing.operator), me)) {
        throw new CliError('DEVICE_EXISTS', `device ${d.id} is registered with another key or operator (another --seed or --prefix?)`, 'prefix');
      }
      if (existing.status === 'flagged-for-inspection') {
        last = await sendNext((n) => buildDeviceStatus({ chainId: ctx.chainId, seed: ctx.seed, nonce: n, fee: 25n, id: d.id, action: 'reactivate' }));
        reactivated++;
      }
      continue;
    }
    const device = fleetRegistration(d, ctx.chainId, { owner, kind: opts.kind as DeviceKind, zone: opts.zone, maxW: opts.maxExportW });
    last = await sendNext((n) => buildDeviceRegister({ chainId: ctx.chainId, seed: ctx.seed, nonce: n, fee: 25n, device }));
    fresh++;
  }
  if (last !== undefined) {
    const t = await waitFinal(ctx, last);
    if (!t.receipt.success) throw new CliError(t.receipt.code || 'TX_FAILED', `registering (or reactivating) the fleet failed: ${last} ${t.receipt.code}`);
    // A device's key signs from the block after its registration's (the node batches under the
    // head's keys): readings sent before the node has that block are refused (TELEMETRY_KEY_ROTATED).
    await waitHeight(ctx, t.blockHeight + 1);
  }
  const ids = fleet.length === 1 ? fleet[0]!.id : `${fleet[0]!.id} … ${fleet[fleet.length - 1]!.id}`;
  const again = reactivated > 0 ? `, ${reactivated} reactivated (flagged for inspection: missed intervals)` : '';
  say(opts, `${fleet.length} device(s) (${ids}) operated by ${ctx.address}: ${fresh} registered now${again}`, {
    event: 'registered',
    devices: fleet.length,
    registered: fresh,
    reactivated,
  });
}

function signWith(opts: SimulateOptions, d: FleetDevice, chainId: string, r: Reading): Uint8Array {
  if (opts.signer === 'blst') return blsSign(d.secretKey, telemetrySigningBytes(chainId, r.deviceId, r.timestampUs, r.netEnergyWh));
  return signReading(d, chainId, r).signature;
}

async function stream(ctx: SenderContext, fleet: readonly FleetDevice[], opts: SimulateOptions, nonce: { next: number }): Promise<void> {
  const last = new Map<string, bigint>();
  const meters = new FleetMeters(opts.exportW);
  let submitted = 0;
  for (let tick = 0; opts.batches === undefined || tick < opts.batches; tick++) {
    const started = Date.now();
    const keyHeight = (await ctx.client.call<StatusJson>('joule_status')).height + 1;
    const nowUs = BigInt(started) * 1000n;
    const readings = fleet.map((d, i): Reading => {
      const prev = last.get(d.id);
      const ts = prev !== undefined && prev >= nowUs ? prev + 1n : nowUs;
      const elapsed = prev === undefined ? BigInt(opts.every) * 1_000_000n : ts - prev;
      last.set(d.id, ts);
      return { deviceId: d.id, timestampUs: ts, netEnergyWh: -meters.exportedWh(i, tick, elapsed), stateOfChargePercent: 0 };
    });
    const signatures = readings.map((r, i) => signWith(opts, fleet[i]!, ctx.chainId, r));
    for (let b = 0; b < readings.length; b += READINGS_PER_BATCH) {
      const part = readings.slice(b, b + READINGS_PER_BATCH);
      const sigs = signatures.slice(b, b + READINGS_PER_BATCH);
      const signature = opts.signer === 'blst' ? blsAggregateSignatures(sigs) : aggregateWithNoble(sigs);
      const tx = buildTelemetryBatch({ chainId: ctx.chainId, seed: ctx.seed, nonce: nonce.next, fee: BigInt(opts.fee), keyHeight, readings: part, signature });
      try {
        const hash = await send(ctx, tx);
        nonce.next++;
        submitted += part.length;
        const wh = part.reduce((s, r) => s - r.netEnergyWh, 0n);
        say(opts, `tick ${tick}: ${part.length} reading(s), ${wh} Wh exported, keys at height ${keyHeight} -> ${hash}`, {
          event: 'batch',
          tick,
          readings: part.length,
          exportedWh: wh.toString(),
          keyHeight,
          hash,
        });
      } catch (e) {
        // A rejected batch (node busy, a nonce raced) is reported and the next tick goes on from the committed nonce.
        if (!(e instanceof CliError)) throw e;
        say(opts, `tick ${tick}: batch refused: ${e.code}: ${e.message}`, { event: 'refused', tick, code: e.code, message: e.message });
        nonce.next = (await ctx.client.call<{ nonce: number }>('joule_getAccount', [ctx.address])).nonce;
      }
    }
    const wait = opts.every * 1000 - (Date.now() - started);
    if (opts.batches === undefined || tick + 1 < opts.batches) await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  say(opts, `done: ${submitted} reading(s) submitted`, { event: 'done', readings: submitted });
}

async function simulateDevices(opts: SimulateOptions): Promise<void> {
  if (opts.devnet !== undefined) {
    const badFraction = Number(opts.badFraction);
    if (!/^(0|1|0?\.[0-9]+)$/.test(opts.badFraction) || badFraction > 1)
      throw new CliError('INVALID_PARAMS', '--bad-fraction must be a number 0..1', 'bad-fraction');
    // The devnet's account-0 owns the fleet (its energy, and its market asks: joule simulate market --devnet); the aggregators operate it.
    const account0 = devnetAccountKeys(opts.devnet)[0];
    const owner = opts.owner ?? (account0 === undefined ? undefined : (await loadKey(account0, undefined, 'ed25519')).address);
    await simulateOverGrpc({
      devnet: opts.devnet,
      count: opts.count,
      rate: opts.rate,
      badFraction,
      seconds: opts.seconds,
      report: opts.report,
      seed: opts.seed,
      prefix: opts.prefix,
      json: opts.json === true,
      presign: opts.presign === true,
      register: (ctx, fleet) => register(ctx, fleet, { ...opts, owner, signer: 'blst' }, { next: ctx.nonce }),
    });
    return;
  }
  if (opts.aggregatorKey === undefined)
    throw new CliError('INVALID_PARAMS', 'give --devnet DIR (stream over gRPC) or --aggregator-key FILE (submit batches over JSON-RPC)', 'aggregator-key');
  if (!(DEVICE_KINDS as readonly string[]).includes(opts.kind))
    throw new CliError('INVALID_PARAMS', `--kind must be one of ${DEVICE_KINDS.join(', ')}`, 'kind');
  if (opts.signer !== 'noble' && opts.signer !== 'blst') throw new CliError('INVALID_PARAMS', '--signer must be noble or blst', 'signer');
  if (opts.exportW > opts.maxExportW) throw new CliError('INVALID_PARAMS', `--export-w must be at most --max-export-w (${opts.maxExportW})`, 'export-w');
  if (!/^[0-9]{1,19}$/.test(opts.fee)) throw new CliError('INVALID_PARAMS', '--fee must be a whole number of micro-units', 'fee');
  const ctx = await senderContext({
    key: opts.aggregatorKey!,
    ...(opts.passphraseFile === undefined ? {} : { passphraseFile: opts.passphraseFile }),
    ...(opts.rpc === undefined ? {} : { rpc: opts.rpc }),
  });
  const fleet = Array.from({ length: opts.count }, (_, i) => fleetDevice(opts.seed, opts.prefix, i));
  const nonce = { next: ctx.nonce };
  await register(ctx, fleet, opts, nonce);
  await stream(ctx, fleet, opts, nonce);
}

export function registerSimulateCommands(program: Command): void {
  const simulate = program.command('simulate').description('simulated participants for a devnet');
  simulate
    .command('devices')
    .description(
      "register a fleet of devices and stream their signed readings: over gRPC to a devnet's validators (--devnet), or as telemetry batches from an aggregator key (--aggregator-key)",
    )
    .requiredOption('--count <n>', 'devices in the fleet', intArg('count', 1, 100_000))
    .option('--devnet <dir>', "stream over gRPC to this devnet's validators (device i to validator i mod n, registered by its aggregator account)")
    .option('--rate <n>', '--devnet: readings a second, the whole fleet together', intArg('rate', 1, 1_000_000), 50)
    .option('--bad-fraction <f>', '--devnet: share of readings signed over other bytes (the nodes drop them)', '0')
    .option('--seconds <s>', '--devnet: stop after s seconds (default: until Ctrl-C)', intArg('seconds', 1, 1_000_000))
    .option('--report <s>', '--devnet: seconds between reports', intArg('report', 1, 3600), 5)
    .option('--presign', '--devnet: sign the whole run (--seconds) before streaming, in worker threads, so signing does not compete with the nodes')
    .option('--aggregator-key <file>', "the aggregator's ed25519 key file (the account must hold the aggregator or dso role)")
    .addOption(passphraseFileOption())
    .addOption(rpcOption())
    .option('--seed <text>', "the fleet's keys derive from this (the same seed, the same fleet)", 'joule-sim')
    .option('--prefix <id>', 'device ids are <prefix>-<i>', 'sim')
    .option('--kind <kind>', `device kind, one of ${DEVICE_KINDS.join(', ')}`, 'solar')
    .option('--zone <zone>', 'grid zone of the devices', 'SIM')
    .option('--owner <address>', "the account their energy belongs to (default: the aggregator; with --devnet, the devnet's account-0)")
    .option('--max-export-w <W>', 'registered export (and import) limit, W', intArg('max-export-w', 1, MAX_POWER_W), 10_000)
    .option('--export-w <W>', 'power each device exports, 60..100 % of it, W', intArg('export-w', 0, MAX_POWER_W), 4_000)
    .option('--every <seconds>', 'seconds between readings', intArg('every', 1, 3600), 2)
    .option('--batches <n>', 'stop after n rounds of readings (default: run until stopped)', intArg('batches', 1, 1_000_000))
    .option('--signer <which>', 'noble (independent of the node, the interop check) or blst (fast)', 'noble')
    .option('--fee <micro>', 'fee of each transaction', '25')
    .option('--json', 'one JSON object per line')
    .action(simulateDevices);
  registerSimulateMarket(simulate);
}
