import type { Command } from 'commander';
import { fromHexOrUndefined } from '../../core/bytes.ts';
import { MAX_CARBON_INTENSITY } from '../../core/device.ts';
import { MAX_PURPOSE_LENGTH } from '../../core/energy.ts';
import { parseAddress } from '../../core/keys.ts';
import type { EnergyCertificateJson, EnergyCertificateListJson, EnergyUtxoJson, EnergyUtxoListJson, ProvenanceJson } from '../../core/rpc-json.ts';
import { buildCurrencyBurn } from '../../core/tx/currency-burn.ts';
import { buildCurrencyMint } from '../../core/tx/currency-mint.ts';
import { buildEnergyRetire } from '../../core/tx/energy-retire.ts';
import { buildEnergyTransfer } from '../../core/tx/energy-transfer.ts';
import { buildGridIntensity } from '../../core/tx/grid-intensity.ts';
import { intArg, timeArg } from '../args.ts';
import { CliError, rpcOption } from '../rpc-client.ts';
import { addressOption, deviceIdArg } from './query-devices.ts';
import { parseAmount, sendTx, withSenderOptions, type TxOptions } from './sender.ts';
import { printJson, printLines as print, readClient as client, type ReadOptions } from './read-output.ts';

/**
 * `joule energy list|show|transfer|retire`, `joule certificates list|show`,
 * `joule currency mint|burn`, `joule grid-intensity post`: energy tokens and settlement
 * currency. Transactions are signed with the sender's key and submitted over JSON-RPC;
 * listings page through the node's indexes, every record with the state key that
 * `joule query proof` verifies.
 */

const collect = (v: string, all: string[]): string[] => [...all, v];

function idArg(v: string, what: string): string {
  const b = fromHexOrUndefined(v);
  if (!v.startsWith('0x') || b === undefined || b.length !== 32)
    throw new CliError('INVALID_PARAMS', `${what} must be a 32-byte 0x hex id, got ${JSON.stringify(v)}`, what);
  return v.toLowerCase();
}

function whArg(v: string, what: string): bigint {
  if (!/^[1-9][0-9]{0,15}$/.test(v)) throw new CliError('INVALID_PARAMS', `${what} must be a whole number of Wh above 0, got ${JSON.stringify(v)}`, what);
  return BigInt(v);
}

function address(v: string, flag: string): Uint8Array {
  return parseAddress(addressOption(v, flag), flag);
}

/** `--to joule1...:1500`: an output of 1,500 Wh for that owner. */
function outputArg(v: string): { owner: Uint8Array; wh: bigint } {
  const at = v.lastIndexOf(':');
  if (at < 0) throw new CliError('INVALID_PARAMS', `--to must be ADDRESS:WH, got ${JSON.stringify(v)}`, 'to');
  return { owner: address(v.slice(0, at), 'to'), wh: whArg(v.slice(at + 1), 'to') };
}

function required(list: readonly string[], flag: string): void {
  if (list.length === 0) throw new CliError('INVALID_PARAMS', `--${flag} is required (repeat it for several)`, flag);
}

function limitArg(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  return intArg('limit', 1, 100)(v);
}

const provenanceText = (p: ProvenanceJson) =>
  `${p.deviceId} (${p.kind}, ${p.zone}) ${new Date(p.intervalStartMs).toISOString()}..${new Date(p.intervalEndMs).toISOString()}, ${p.carbonIntensity} g CO2e/kWh`;

function utxoLines(u: EnergyUtxoJson): string[] {
  return [
    `utxo        ${u.id}`,
    `owner       ${u.owner}`,
    `energy      ${u.wh} Wh${u.frozen ? ' (FROZEN: check-meter disagreement)' : ''}`,
    `provenance  ${provenanceText(u.provenance)}`,
    `created at  height ${u.height}`,
    `state key   ${u.stateKey} (prove it: joule query proof utxo:${u.id})`,
  ];
}

function certificateLines(c: EnergyCertificateJson): string[] {
  return [
    `certificate ${c.id}`,
    `beneficiary ${c.beneficiary}`,
    `purpose     ${JSON.stringify(c.purpose)}`,
    `energy      ${c.wh} Wh`,
    `provenance  ${provenanceText(c.provenance)}`,
    `retired     height ${c.height}, ${new Date(c.time).toISOString()}`,
    `state key   ${c.stateKey} (prove it: joule query proof certificate:${c.id})`,
  ];
}

function registerEnergy(program: Command, common: (c: Command) => Command): void {
  const energy = program.command('energy').description('energy tokens (UTXOs with provenance): list, show, transfer, retire');

  common(
    energy
      .command('list')
      .description('unspent energy UTXOs by id, one bounded page at a time')
      .option('--owner <address>', "only this owner's")
      .option('--limit <n>', 'at most n (1..100, default 100)')
      .option('--cursor <hex>', "continue after the previous page's cursor"),
  ).action(async (opts: ReadOptions & { owner?: string; limit?: string; cursor?: string }) => {
    const q: Record<string, unknown> = {};
    if (opts.owner !== undefined) q.owner = addressOption(opts.owner, 'owner');
    const limit = limitArg(opts.limit);
    if (limit !== undefined) q.limit = limit;
    if (opts.cursor !== undefined) q.cursor = opts.cursor;
    const page = await client(opts).call<EnergyUtxoListJson>('joule_listEnergyUtxos', [q]);
    if (opts.json === true) return printJson(page);
    print([
      ...page.utxos.map((u) => `${u.id}  ${u.wh.padStart(10)} Wh  ${u.owner}  ${provenanceText(u.provenance)}${u.frozen ? '  FROZEN' : ''}`),
      page.nextCursor === null ? `(${page.utxos.length} UTXO(s), end of list)` : `(${page.utxos.length} UTXO(s); more: --cursor ${page.nextCursor})`,
    ]);
  });

  common(energy.command('show').description('one unspent energy UTXO').argument('<id>', '0x UTXO id')).action(async (id: string, opts: ReadOptions) => {
    const u = await client(opts).call<EnergyUtxoJson | null>('joule_getEnergyUtxo', [idArg(id, 'id')]);
    if (u === null) throw new CliError('NOT_FOUND', `no unspent energy UTXO ${id} (never minted, spent or retired)`);
    if (opts.json === true) return printJson(u);
    print(utxoLines(u));
  });

  withSenderOptions(
    energy
      .command('transfer')
      .description('spend your UTXOs of one provenance into outputs that add up to them exactly (split, merge, pay with change)')
      .option('--input <id>', 'a UTXO to spend (repeat for several; at least one)', collect, [])
      .option('--to <address:wh>', 'an output: ADDRESS:WH (repeat for several; at least one)', collect, []),
  ).action(async (opts: TxOptions & { input: string[]; to: string[] }) => {
    required(opts.input, 'input');
    required(opts.to, 'to');
    const inputs = opts.input.map((i) => Uint8Array.from(fromHexOrUndefined(idArg(i, 'input'))!));
    const outputs = opts.to.map(outputArg);
    await sendTx(opts, (ctx, fee) => buildEnergyTransfer({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, inputs, outputs }), {
      inputs: opts.input,
      outputs: opts.to,
    });
  });

  withSenderOptions(
    energy
      .command('retire')
      .description('retire energy of your UTXOs (one provenance) as a certificate; the rest comes back to you')
      .option('--input <id>', 'a UTXO to retire from (repeat for several; at least one)', collect, [])
      .requiredOption('--wh <n>', 'Wh to retire')
      .requiredOption('--beneficiary <address>', 'the account on whose behalf')
      .option('--purpose <text>', `what the certificate is for (at most ${MAX_PURPOSE_LENGTH} characters)`, ''),
    '10',
  ).action(async (opts: TxOptions & { input: string[]; wh: string; beneficiary: string; purpose: string }) => {
    required(opts.input, 'input');
    const inputs = opts.input.map((i) => Uint8Array.from(fromHexOrUndefined(idArg(i, 'input'))!));
    const wh = whArg(opts.wh, 'wh');
    const beneficiary = address(opts.beneficiary, 'beneficiary');
    await sendTx(
      opts,
      (ctx, fee) => buildEnergyRetire({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, inputs, wh, beneficiary, purpose: opts.purpose }),
      {
        inputs: opts.input,
        wh: wh.toString(),
        beneficiary: opts.beneficiary,
      },
    );
  });
}

function registerCertificates(program: Command, common: (c: Command) => Command): void {
  const certificates = program.command('certificates').description('retired energy: list and show certificates');
  common(
    certificates
      .command('list')
      .description('certificates, all or by one of beneficiary, device, zone or production period, one bounded page at a time')
      .option('--beneficiary <address>', 'retired for this account')
      .option('--device <id>', 'energy of this device')
      .option('--zone <zone>', 'energy of this zone')
      .option('--from <time>', 'energy produced in intervals starting at or after (ms or ISO 8601; with --to)', timeArg('from'))
      .option('--to <time>', 'and before (ms or ISO 8601)', timeArg('to'))
      .option('--limit <n>', 'at most n (1..100, default 100)')
      .option('--cursor <hex>', "continue after the previous page's cursor"),
  ).action(
    async (opts: ReadOptions & { beneficiary?: string; device?: string; zone?: string; from?: number; to?: number; limit?: string; cursor?: string }) => {
      const q: Record<string, unknown> = {};
      if (opts.beneficiary !== undefined) q.beneficiary = addressOption(opts.beneficiary, 'beneficiary');
      if (opts.device !== undefined) q.device = deviceIdArg(opts.device, 'device');
      if (opts.zone !== undefined) q.zone = opts.zone;
      if ((opts.from === undefined) !== (opts.to === undefined))
        throw new CliError('INVALID_PARAMS', 'a period needs both --from and --to', opts.from === undefined ? 'from' : 'to');
      if (opts.from !== undefined) q.period = { from: opts.from, to: opts.to };
      const limit = limitArg(opts.limit);
      if (limit !== undefined) q.limit = limit;
      if (opts.cursor !== undefined) q.cursor = opts.cursor;
      const page = await client(opts).call<EnergyCertificateListJson>('joule_listCertificates', [q]);
      if (opts.json === true) return printJson(page);
      print([
        ...page.certificates.map(
          (c) => `${c.id}  ${c.wh.padStart(10)} Wh  for ${c.beneficiary}  ${provenanceText(c.provenance)}  ${JSON.stringify(c.purpose)}`,
        ),
        page.nextCursor === null
          ? `(${page.certificates.length} certificate(s), end of list)`
          : `(${page.certificates.length} certificate(s); more: --cursor ${page.nextCursor})`,
      ]);
    },
  );
  common(certificates.command('show').description('one certificate').argument('<id>', '0x certificate id')).action(async (id: string, opts: ReadOptions) => {
    const c = await client(opts).call<EnergyCertificateJson | null>('joule_getCertificate', [idArg(id, 'id')]);
    if (c === null) throw new CliError('NOT_FOUND', `no certificate ${id}`);
    if (opts.json === true) return printJson(c);
    print(certificateLines(c));
  });
}

function registerCurrency(program: Command): void {
  const currency = program.command('currency').description('settlement currency issuance (accounts holding the issuer role)');
  withSenderOptions(
    currency
      .command('mint')
      .description('create settlement currency for an account')
      .requiredOption('--to <address>', 'the account credited')
      .requiredOption('--amount <micro>', 'micro-units'),
  ).action(async (opts: TxOptions & { to: string; amount: string }) => {
    const to = address(opts.to, 'to');
    const amount = parseAmount(opts.amount, 'amount');
    await sendTx(opts, (ctx, fee) => buildCurrencyMint({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, to, amount }), {
      to: opts.to,
      amount: amount.toString(),
    });
  });
  withSenderOptions(currency.command('burn').description('destroy settlement currency of your own').requiredOption('--amount <micro>', 'micro-units')).action(
    async (opts: TxOptions & { amount: string }) => {
      const amount = parseAmount(opts.amount, 'amount');
      await sendTx(opts, (ctx, fee) => buildCurrencyBurn({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, amount }), {
        amount: amount.toString(),
      });
    },
  );
}

function registerGridIntensity(program: Command): void {
  const grid = program.command('grid-intensity').description("a zone's grid carbon intensity (accounts holding the oracle role)");
  withSenderOptions(
    grid
      .command('post')
      .description("post a zone's grid carbon intensity for one settlement interval (before it closes; storage charged in it carries this figure)")
      .requiredOption('--zone <zone>', 'grid zone')
      .requiredOption('--interval-start <time>', 'the interval start (ms or ISO 8601), a multiple of the settlement interval', timeArg('interval-start'))
      .requiredOption('--intensity <g>', 'g CO2e/kWh', intArg('intensity', 0, MAX_CARBON_INTENSITY)),
    '25',
  ).action(async (opts: TxOptions & { zone: string; intervalStart: number; intensity: number }) => {
    await sendTx(
      opts,
      (ctx, fee) =>
        buildGridIntensity({
          chainId: ctx.chainId,
          seed: ctx.seed,
          nonce: ctx.nonce,
          fee,
          zone: opts.zone,
          intervalStartMs: opts.intervalStart,
          carbonIntensity: opts.intensity,
        }),
      { zone: opts.zone, intervalStartMs: opts.intervalStart, carbonIntensity: opts.intensity },
    );
  });
}

export function registerEnergyCommands(program: Command): void {
  const common = (cmd: Command): Command => cmd.addOption(rpcOption()).option('--json', 'print one JSON object');
  registerEnergy(program, common);
  registerCertificates(program, common);
  registerCurrency(program);
  registerGridIntensity(program);
}
