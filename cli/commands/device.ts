import type { Command } from 'commander';
import { fromHexOrUndefined } from '../../core/bytes.ts';
import { DEVICE_KINDS, MAX_POWER_W, MAX_CARBON_INTENSITY, type DeviceKind } from '../../core/device.ts';
import { isJouleError } from '../../core/errors.ts';
import { BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH, parseAddress } from '../../core/keys.ts';
import { verifySignatureSet } from '../../core/signature-sets.ts';
import { deviceProofOfPossessionSet } from '../../core/pop.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildDeviceRekey } from '../../core/tx/device-rekey.ts';
import { buildDeviceStatus, type DeviceStatusAction } from '../../core/tx/device-status.ts';
import { buildDeviceUpdate, encodeDeviceUpdateBody, type DeviceUpdateBody } from '../../core/tx/device-update.ts';
import { intArg } from '../args.ts';
import { CliError } from '../rpc-client.ts';
import { devicePop } from './keys-pop.ts';
import { deviceIdArg } from './query-devices.ts';
import { sendTx, withBodyErrors, withSenderOptions, type TxOptions } from './sender.ts';

/**
 * `joule device register|update|suspend|revoke|reactivate|rekey`: the operator's (or, for
 * update and the status changes, a validator's governance vote) device transactions, signed
 * with the sender's key and submitted over JSON-RPC. The device's key and its proof of
 * possession come from its BLS key file (`--device-key`, the proof computed here for the
 * node's chain) or as hex from `joule keys pop` (`--public-key --pop`), for a key that never
 * leaves the device maker.
 */

interface KeySource {
  deviceKey?: string;
  devicePassphraseFile?: string;
  publicKey?: string;
  pop?: string;
}

type Options = TxOptions;

const watts = (flag: string) => intArg(flag, 0, MAX_POWER_W);

function hexOption(v: string, flag: string, length: number): Uint8Array {
  const b = fromHexOrUndefined(v);
  if (b === undefined || b.length !== length) throw new CliError('INVALID_PARAMS', `--${flag} must be ${length} bytes of 0x-prefixed hex`, flag);
  return b;
}

function addressArg(v: string, flag: string): Uint8Array {
  try {
    return parseAddress(v, flag);
  } catch (e) {
    if (isJouleError(e)) throw new CliError(e.code, `--${e.message}`, flag);
    throw e;
  }
}

/** The device's key and its proof for the node's chain; checked here, so a wrong proof fails before anything is sent. */
async function deviceKeyOf(opts: KeySource, chainId: string): Promise<{ publicKey: Uint8Array; proof: Uint8Array }> {
  let k: { publicKey: Uint8Array; proof: Uint8Array };
  if (opts.deviceKey !== undefined) {
    if (opts.publicKey !== undefined || opts.pop !== undefined)
      throw new CliError('INVALID_PARAMS', 'give --device-key FILE, or --public-key and --pop, not both', 'device-key');
    k = await devicePop(opts.deviceKey, opts.devicePassphraseFile, chainId);
  } else {
    if (opts.publicKey === undefined || opts.pop === undefined)
      throw new CliError('INVALID_PARAMS', 'the device key: --device-key FILE, or --public-key HEX and --pop HEX (from `joule keys pop`)', 'device-key');
    k = { publicKey: hexOption(opts.publicKey, 'public-key', BLS_PUBLIC_KEY_LENGTH), proof: hexOption(opts.pop, 'pop', BLS_SIGNATURE_LENGTH) };
  }
  if (!verifySignatureSet(deviceProofOfPossessionSet(chainId, k.publicKey, k.proof))) {
    throw new CliError('TX_BAD_SIGNATURE', `the proof of possession does not verify for this key on chain ${JSON.stringify(chainId)}`, 'pop');
  }
  return k;
}

interface RegisterOptions extends Options, KeySource {
  owner: string;
  kind: DeviceKind;
  zone: string;
  maxImportW: number;
  maxExportW: number;
  carbonIntensity: number;
  checkMeter?: string;
}

interface UpdateOptions extends Options {
  zone?: string;
  maxImportW?: number;
  maxExportW?: number;
  carbonIntensity?: number;
  operator?: string;
  /** An id, or false for --no-check-meter. */
  checkMeter?: string | false;
}

function withKeySource(cmd: Command): Command {
  return cmd
    .option('--device-key <file>', "the device's BLS key file (the proof of possession is made here for the node's chain)")
    .option('--device-passphrase-file <file>', 'passphrase of an encrypted --device-key')
    .option('--public-key <hex>', "the device's BLS public key (48 bytes, from `joule keys pop`)")
    .option('--pop <hex>', 'its proof of possession for this chain (96 bytes, from `joule keys pop`)');
}

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('register and manage metered devices (as their dso or aggregator operator)');

  withSenderOptions(
    withKeySource(
      device
        .command('register')
        .description('register a device you operate (your account must hold the dso or aggregator role)')
        .argument('<id>', 'device id, unique on the chain'),
    )
      .requiredOption('--owner <address>', 'the account its energy belongs to')
      .requiredOption('--kind <kind>', `one of ${DEVICE_KINDS.join(', ')}`)
      .requiredOption('--zone <zone>', 'grid zone (bidding zone, feeder)')
      .requiredOption('--max-import-w <W>', 'most power it draws, W', watts('max-import-w'))
      .requiredOption('--max-export-w <W>', 'most power it feeds in, W', watts('max-export-w'))
      .requiredOption('--carbon-intensity <g>', 'declared g CO2e/kWh of its own generation', intArg('carbon-intensity', 0, MAX_CARBON_INTENSITY))
      .option('--check-meter <id>', 'a registered device metering the same point'),
    '25',
  ).action(async (id: string, opts: RegisterOptions) => {
    if (!(DEVICE_KINDS as readonly string[]).includes(opts.kind))
      throw new CliError('INVALID_PARAMS', `--kind must be one of ${DEVICE_KINDS.join(', ')}, got ${JSON.stringify(opts.kind)}`, 'kind');
    const owner = addressArg(opts.owner, 'owner');
    await sendTx(
      opts,
      async (ctx, fee) => {
        const k = await deviceKeyOf(opts, ctx.chainId);
        const body = {
          id: deviceIdArg(id),
          publicKey: k.publicKey,
          proofOfPossession: k.proof,
          owner,
          kind: opts.kind,
          zone: opts.zone,
          maxImportW: opts.maxImportW,
          maxExportW: opts.maxExportW,
          carbonIntensity: opts.carbonIntensity,
          checkMeter: opts.checkMeter,
        };
        return withBodyErrors(() => buildDeviceRegister({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, device: body }));
      },
      { device: id, kind: opts.kind, zone: opts.zone },
    );
  });

  withSenderOptions(
    device
      .command('update')
      .description("change a device's zone, limits, carbon intensity, operator or check meter (its operator; a validator's is a governance vote)")
      .argument('<id>', 'device id')
      .option('--zone <zone>', 'new grid zone')
      .option('--max-import-w <W>', 'new import limit, W', watts('max-import-w'))
      .option('--max-export-w <W>', 'new export limit, W', watts('max-export-w'))
      .option('--carbon-intensity <g>', 'new declared g CO2e/kWh', intArg('carbon-intensity', 0, MAX_CARBON_INTENSITY))
      .option('--operator <address>', 'hand the device to another dso or aggregator')
      .option('--check-meter <id>', 'set its check meter')
      .option('--no-check-meter', 'remove its check meter'),
    '25',
  ).action(async (id: string, opts: UpdateOptions) => {
    const update: { -readonly [K in keyof DeviceUpdateBody]: DeviceUpdateBody[K] } = { id: deviceIdArg(id) };
    if (opts.zone !== undefined) update.zone = opts.zone;
    if (opts.maxImportW !== undefined) update.maxImportW = opts.maxImportW;
    if (opts.maxExportW !== undefined) update.maxExportW = opts.maxExportW;
    if (opts.carbonIntensity !== undefined) update.carbonIntensity = opts.carbonIntensity;
    if (opts.operator !== undefined) update.operator = addressArg(opts.operator, 'operator');
    if (opts.checkMeter === false) update.checkMeter = null;
    else if (typeof opts.checkMeter === 'string') update.checkMeter = opts.checkMeter;
    // Checked before the node is asked anything: an update that changes nothing fails here.
    withBodyErrors(() => encodeDeviceUpdateBody(update));
    await sendTx(opts, (ctx, fee) => buildDeviceUpdate({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, update }), { device: id });
  });

  for (const [action, text] of [
    ['suspend', 'suspend a device (its telemetry is refused until reactivated)'],
    ['revoke', 'revoke a device for good (final: it never changes again)'],
    ['reactivate', 'reactivate a suspended or flagged device'],
  ] as const) {
    withSenderOptions(
      device.command(action).description(`${text}; by its operator, or a validator's governance vote`).argument('<id>', 'device id'),
      '25',
    ).action(async (id: string, opts: Options) => {
      const status: DeviceStatusAction = action;
      await sendTx(
        opts,
        (ctx, fee) => buildDeviceStatus({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, id: deviceIdArg(id), action: status }),
        {
          device: id,
          action,
        },
      );
    });
  }

  withSenderOptions(
    withKeySource(
      device
        .command('rekey')
        .description('give a device a new key (its operator); readings from the next block on must be signed with it')
        .argument('<id>', 'device id'),
    ),
    '25',
  ).action(async (id: string, opts: Options & KeySource) => {
    await sendTx(
      opts,
      async (ctx, fee) => {
        const k = await deviceKeyOf(opts, ctx.chainId);
        return buildDeviceRekey({
          chainId: ctx.chainId,
          seed: ctx.seed,
          nonce: ctx.nonce,
          fee,
          id: deviceIdArg(id),
          publicKey: k.publicKey,
          proofOfPossession: k.proof,
        });
      },
      { device: id },
    );
  });
}
