import type { Command } from 'commander';
import type { DeviceHealthJson, IntervalTotalsListJson, ReadingListJson } from '../../core/rpc-json.ts';
import { CliError } from '../rpc-client.ts';
import { deviceIdArg } from './query-devices.ts';
import { isoMicros, printJson, printLines as print, readClient as client, type ReadOptions as QueryOptions } from './read-output.ts';

/** `joule query readings|intervals|health`: what a device's telemetry left on chain. */

function integer(v: string | undefined, flag: string, digits: number): string | undefined {
  if (v === undefined) return undefined;
  if (!new RegExp(`^[0-9]{1,${digits}}$`).test(v))
    throw new CliError('INVALID_PARAMS', `--${flag} must be a non-negative integer, got ${JSON.stringify(v)}`, flag);
  return v;
}

async function queryReadings(id: string, opts: QueryOptions & { fromUs?: string; toUs?: string; limit?: string }): Promise<void> {
  const q: Record<string, unknown> = {};
  const from = integer(opts.fromUs, 'from-us', 19);
  const to = integer(opts.toUs, 'to-us', 19);
  const limit = integer(opts.limit, 'limit', 4);
  if (from !== undefined) q.fromUs = from;
  if (to !== undefined) q.toUs = to;
  if (limit !== undefined) q.limit = Number(limit);
  const page = await client(opts).call<ReadingListJson>('joule_getReadings', [deviceIdArg(id), q]);
  if (opts.json === true) return printJson(page);
  // The µs figure stays beside the time: --from-us and --to-us take it.
  print([
    ...page.readings.map(
      (r) =>
        `${isoMicros(BigInt(r.timestampUs))}  ${r.timestampUs.padStart(17)} µs  ${r.netEnergyWh.padStart(8)} Wh  soc ${String(r.stateOfChargePercent).padStart(3)}%  block ${r.height}`,
    ),
    page.nextFromUs === null
      ? `(${page.readings.length} reading(s), end of range)`
      : `(${page.readings.length} reading(s); more: --from-us ${page.nextFromUs})`,
  ]);
}

async function queryIntervals(id: string, opts: QueryOptions & { from?: string; to?: string; limit?: string }): Promise<void> {
  const q: Record<string, unknown> = {};
  const from = integer(opts.from, 'from', 16);
  const to = integer(opts.to, 'to', 16);
  const limit = integer(opts.limit, 'limit', 3);
  if (from !== undefined) q.from = Number(from);
  if (to !== undefined) q.to = Number(to);
  if (limit !== undefined) q.limit = Number(limit);
  const page = await client(opts).call<IntervalTotalsListJson>('joule_getIntervalTotals', [deviceIdArg(id), q]);
  if (opts.json === true) return printJson(page);
  print([
    ...page.intervals.map(
      (t) =>
        `${new Date(t.intervalStartMs).toISOString()}  ${String(t.readings).padStart(5)} reading(s)  net ${t.netEnergyWh.padStart(8)} Wh  ${t.status.padEnd(8)}  minted ${t.mintedWh ?? '-'}${t.checkMeter === null ? '' : `  check meter ${t.checkMeter.deviceId}`}`,
    ),
    page.nextFrom === null ? `(${page.intervals.length} interval(s), end of range)` : `(${page.intervals.length} interval(s); more: --from ${page.nextFrom})`,
  ]);
}

async function queryHealth(id: string, opts: QueryOptions): Promise<void> {
  const h = await client(opts).call<DeviceHealthJson | null>('joule_getDeviceHealth', [deviceIdArg(id)]);
  if (h === null) throw new CliError('NOT_FOUND', `no device ${JSON.stringify(id)} is registered`);
  if (opts.json === true) return printJson(h);
  const energy = (e: DeviceHealthJson['estimate']) => (e === null ? '-' : `import ${e.importWh} Wh, export ${e.exportWh} Wh (interval ${e.intervalStartMs})`);
  print([
    `device           ${h.device}`,
    `status           ${h.status}${h.inDispatch ? ' (in dispatch)' : ' (out of dispatch)'}`,
    `missed intervals ${h.missedIntervals}`,
    `last reading     ${h.lastReadingUs ?? '-'} µs`,
    `last verified    ${energy(h.lastVerified)}`,
    `estimate         ${energy(h.estimate)}`,
    `flagged at       ${h.flaggedAtMs ?? '-'}`,
    `state key        ${h.stateKey} (prove it: joule query proof health:${h.device})`,
  ]);
}

export function registerTelemetryQueries(query: Command, common: (cmd: Command) => Command): void {
  common(
    query
      .command('readings')
      .description("a device's readings the chain counted, oldest first, one bounded page at a time")
      .argument('<id>', 'device id')
      .option('--from-us <us>', 'from this timestamp (µs)')
      .option('--to-us <us>', 'up to this timestamp (µs)')
      .option('--limit <n>', 'at most n (1..1000, default 1000)'),
  ).action(queryReadings);
  common(
    query
      .command('intervals')
      .description("a device's metered totals per settlement interval (the last 96 are kept), with how each closed")
      .argument('<id>', 'device id')
      .option('--from <ms>', 'intervals starting at or after this time (ms)')
      .option('--to <ms>', 'intervals starting at or before this time (ms)')
      .option('--limit <n>', 'at most n (1..100, default 100)'),
  ).action(queryIntervals);
  common(
    query
      .command('health')
      .description("a device's missing data: missed intervals, the de-rated estimate, flagged or in dispatch")
      .argument('<id>', 'device id'),
  ).action(queryHealth);
}
