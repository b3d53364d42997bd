import type { Command } from 'commander';
import { isDeviceId, isZone } from '../../core/device.ts';
import { isJouleError } from '../../core/errors.ts';
import { parseAddress } from '../../core/keys.ts';
import type { DeviceJson, DeviceListJson, RolesJson } from '../../core/rpc-json.ts';
import { CliError } from '../rpc-client.ts';
import { printJson, printLines as print, readClient as client, type ReadOptions as QueryOptions } from './read-output.ts';

/** `joule query device|devices|roles`: the energy ledger's registered devices and account roles. */

export function deviceIdArg(v: string, what = 'id'): string {
  if (!isDeviceId(v))
    throw new CliError('INVALID_PARAMS', `${what} must be a device id (1-64 of letters, digits, ".", "_", ":", "-"), got ${JSON.stringify(v)}`, what);
  return v;
}

export function addressOption(v: string, what: string): string {
  try {
    parseAddress(v, what);
    return v;
  } catch (e) {
    if (isJouleError(e)) throw new CliError(e.code, `--${e.message}`, what);
    throw e;
  }
}

function deviceLines(d: DeviceJson): string[] {
  return [
    `device       ${d.id}`,
    `kind         ${d.kind}`,
    `status       ${d.status}`,
    `zone         ${d.zone}`,
    `operator     ${d.operator}`,
    `owner        ${d.owner}`,
    `max import   ${d.maxImportW} W`,
    `max export   ${d.maxExportW} W`,
    `carbon       ${d.carbonIntensity} g CO2e/kWh`,
    `check meter  ${d.checkMeter ?? '-'}`,
    `public key   ${d.publicKey}`,
    ...d.keyHistory.map((k) => `  key from height ${String(k.fromHeight).padEnd(10)} ${k.key}`),
    `state key    ${d.stateKey} (prove it: joule query proof device:${d.id})`,
  ];
}

async function queryDevice(id: string, opts: QueryOptions): Promise<void> {
  const d = await client(opts).call<DeviceJson | null>('joule_getDevice', [deviceIdArg(id)]);
  if (d === null) throw new CliError('NOT_FOUND', `no device ${JSON.stringify(id)} is registered`);
  if (opts.json === true) return printJson(d);
  print(deviceLines(d));
}

async function queryDevices(opts: QueryOptions & { operator?: string; zone?: string; limit?: string; cursor?: string }): Promise<void> {
  const q: Record<string, unknown> = {};
  if (opts.operator !== undefined) q.operator = addressOption(opts.operator, 'operator');
  if (opts.zone !== undefined) {
    if (!isZone(opts.zone))
      throw new CliError('INVALID_PARAMS', `--zone must be 1-32 of letters, digits, ".", "_", ":", "-", got ${JSON.stringify(opts.zone)}`, 'zone');
    q.zone = opts.zone;
  }
  if (opts.limit !== undefined) {
    if (!/^[0-9]{1,4}$/.test(opts.limit)) throw new CliError('INVALID_PARAMS', `--limit must be an integer, got ${JSON.stringify(opts.limit)}`, 'limit');
    q.limit = Number(opts.limit);
  }
  if (opts.cursor !== undefined) q.cursor = deviceIdArg(opts.cursor, 'cursor');
  const page = await client(opts).call<DeviceListJson>('joule_listDevices', [q]);
  if (opts.json === true) return printJson(page);
  print([
    ...page.devices.map((d) => `${d.id.padEnd(24)} ${d.kind.padEnd(10)} ${d.status.padEnd(22)} ${d.zone.padEnd(8)} ${d.operator}`),
    page.nextCursor === null ? `(${page.devices.length} device(s), end of list)` : `(${page.devices.length} device(s); more: --cursor ${page.nextCursor})`,
  ]);
}

async function queryRoles(address: string, opts: QueryOptions): Promise<void> {
  const r = await client(opts).call<RolesJson>('joule_getRoles', [addressOption(address, 'address')]);
  if (opts.json === true) return printJson(r);
  print([
    `address    ${r.address}`,
    `roles      ${r.roles.join(', ') || '-'}`,
    `pending    ${r.pending.length} role vote(s)`,
    ...r.pending.map((p) => `  ${p.action.padEnd(6)} ${p.role.padEnd(16)} votes ${p.votes ?? '?'}/${p.needed ?? '?'}  by ${p.voters.join(', ')}`),
  ]);
}

export function registerDeviceQueries(query: Command, common: (cmd: Command) => Command): void {
  common(query.command('device').description('a registered device with its key history').argument('<id>', 'device id')).action(queryDevice);
  common(
    query
      .command('devices')
      .description('registered devices by id, one bounded page at a time')
      .option('--operator <address>', "only this operator's devices")
      .option('--zone <zone>', "only this zone's devices")
      .option('--limit <n>', 'at most n (1..100, default 100)')
      .option('--cursor <id>', "continue after this id (the previous page's cursor)"),
  ).action(queryDevices);
  common(query.command('roles').description("an account's roles and the open votes to change them").argument('<address>', 'joule1... address')).action(
    queryRoles,
  );
}
