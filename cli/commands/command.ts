/**
 * `joule command issue`: a dso issues a grid command to devices it operates, or to its
 * devices in a zone (resolved here through joule_listDevices, then checked by the node and
 * by the anchor's rules). The command is signed as the dso's command-anchor tx (type 28) and
 * sent with joule_issueCommand: the node announces it to connected devices at once and the
 * tx anchors its hash on chain.
 */
import type { Command } from 'commander';
import { toHex } from '../../core/bytes.ts';
import { canonicalTargets, COMMAND_TYPES, type CommandTypeId } from '../../core/command.ts';
import { type DeviceRecord, MAX_POWER_W } from '../../core/device.ts';
import { isJouleError } from '../../core/errors.ts';
import { parseAddress } from '../../core/keys.ts';
import type { DeviceListJson } from '../../core/rpc-json.ts';
import { buildCommandAnchor } from '../../core/tx/command-anchor.ts';
import { zoneTargets } from '../../node/commands/targets.ts';
import { intArg } from '../args.ts';
import { CliError, rpcOption } from '../rpc-client.ts';
import { passphraseFileOption } from './keys.ts';
import { deviceIdArg } from './query-devices.ts';
import { isoMicros } from './read-output.ts';
import { atFreeNonce, parseAmount, senderContext, type SenderOptions } from './sender.ts';

interface IssueOptions extends SenderOptions {
  type: string;
  device?: string[];
  zone?: string;
  powerLimitW: number;
  priceMicro: string;
  validFor: number;
  fee: string;
  json?: boolean;
}

/** A typed rejection of the body as the CLI's error (exit code and field). */
function cliError(e: unknown): never {
  if (isJouleError(e)) throw new CliError(e.code, e.message, e.field);
  throw e;
}

export function registerCommandCommands(program: Command): void {
  const command = program.command('command').description('grid commands: a dso tells devices it operates to charge, discharge, idle or curtail');
  command
    .command('issue')
    .description('issue a grid command (your account must hold the dso role and operate every target)')
    .requiredOption('--type <type>', COMMAND_TYPES.join(', '))
    .option('--device <id...>', 'target device ids')
    .option('--zone <zone>', 'or: every device you operate in this zone')
    .option('--power-limit-w <W>', 'power limit, integer W (0 for idle)', intArg('power-limit-w', 0, MAX_POWER_W), 0)
    .option('--price-micro <micro>', 'price, micro-units per kWh', '0')
    .option('--valid-for <seconds>', 'validity window from now, seconds (at most a day)', intArg('valid-for', 1, 86_400), 300)
    .requiredOption('--key <file>', "the dso's ed25519 key file")
    .addOption(passphraseFileOption())
    .option('--fee <micro>', 'fee in micro-units (the default chain minimum for grid_balancing is 25)', '25')
    .option('--nonce <n>', "use this nonce instead of the account's next free one (its pendingNonce at the node)")
    .addOption(rpcOption())
    .option('--json', 'print one JSON object')
    .action(async (opts: IssueOptions) => {
      const type = COMMAND_TYPES.indexOf(opts.type as (typeof COMMAND_TYPES)[number]);
      if (type < 0) throw new CliError('INVALID_PARAMS', `--type must be one of ${COMMAND_TYPES.join(', ')}, got ${JSON.stringify(opts.type)}`, 'type');
      if ((opts.device === undefined) === (opts.zone === undefined))
        throw new CliError('INVALID_PARAMS', 'give --device ID... or --zone ZONE (one of them)', 'device');
      const price = parseAmount(opts.priceMicro, 'price-micro', true);
      const fee = parseAmount(opts.fee, 'fee', true);
      const ctx = await senderContext(opts);
      const zone = opts.zone;
      const deviceIds =
        zone === undefined
          ? canonicalTargets(opts.device!.map((d) => deviceIdArg(d, 'device')))
          : await zoneTargets(
              async (q) => {
                const page = await ctx.client.call<DeviceListJson>('joule_listDevices', [
                  { operator: ctx.address, zone: q.zone, limit: q.limit, ...(q.after === undefined ? {} : { cursor: q.after }) },
                ]);
                return { devices: page.devices.map((d) => ({ id: d.id, status: d.status as DeviceRecord['status'] })), next: page.nextCursor ?? undefined };
              },
              parseAddress(ctx.address),
              zone,
            ).catch(cliError);
      const issued = await atFreeNonce(ctx, async (nonce) => {
        const nowUs = BigInt(Date.now()) * 1000n;
        let tx: ReturnType<typeof buildCommandAnchor>;
        try {
          tx = buildCommandAnchor({
            chainId: ctx.chainId,
            seed: ctx.seed,
            nonce,
            fee,
            type: type as CommandTypeId,
            deviceIds,
            zone,
            powerLimitW: opts.powerLimitW,
            priceMicroPerKwh: price,
            validFromUs: nowUs,
            validUntilUs: nowUs + BigInt(opts.validFor) * 1_000_000n,
          });
        } catch (e) {
          cliError(e);
        }
        return ctx.client.call<Record<string, unknown>>('joule_issueCommand', [`0x${toHex(tx.bytes)}`]);
      });
      if (opts.json === true) process.stdout.write(`${JSON.stringify(issued)}\n`);
      else
        process.stdout.write(
          `issued   ${String(issued.commandId)}\nanchor   ${String(issued.txHash)}\ntype     ${opts.type}\ntargets  ${deviceIds.join(', ')}\nuntil    ${isoMicros(BigInt(String(issued.validUntilUs)))} (${String(issued.validUntilUs)} µs)\n`,
        );
    });
}
