import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { equalBytes } from '../../core/bytes.ts';
import { commandHash, COMMAND_TYPES } from '../../core/command.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { hasRole } from '../../core/roles.ts';
import { commandKey } from '../../core/state-keys.ts';
import { type CommandAnchorBody, decodeCommandAnchorBody } from '../../core/tx/command-anchor.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putAnchoredCommand } from '../../state/commands.ts';
import { deviceKey, getDevice } from '../../state/devices.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText, readAccount } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';
import { intervalHolding, isPricedExportCommand, queueCommandInterval } from '../flex/priced-command.ts';

/**
 * Type 28, command-anchor: the dso that issued a grid command anchors its hash, so anyone
 * can later prove (joule_getProof of state/commands.ts commandKey) who commanded which
 * devices what, for which window. The sender is the issuer: it must hold the dso role and
 * operate every target (a device registered, not revoked, whose operator it is; in the
 * command's zone when it names one). The command reached the devices before the anchor
 * (commands bypass consensus), so an anchor is accepted until ANCHOR_GRACE_US after its
 * window ends, and not for a window starting more than MAX_ANCHOR_AHEAD_US after the
 * block: both against the block's time, the VM's only clock.
 */

/** An anchor may land up to ten minutes after its command's window ended. */
export const ANCHOR_GRACE_US = 600_000_000n;
/** A command may be anchored up to a day before its window opens. */
export const MAX_ANCHOR_AHEAD_US = 86_400_000_000n;

const target = (i: number) => `tx.body.deviceIds[${i}]`;

function checkTime(body: CommandAnchorBody, timestampMs: number | undefined): void {
  if (timestampMs === undefined) return;
  const nowUs = BigInt(timestampMs) * 1000n;
  if (body.validUntilUs + ANCHOR_GRACE_US < nowUs)
    throw new JouleError(
      ErrorCode.COMMAND_EXPIRED,
      `the window ended at ${body.validUntilUs} us, more than ${ANCHOR_GRACE_US} us before this block (${nowUs} us)`,
      'tx.body.validUntilUs',
    );
  if (body.validFromUs > nowUs + MAX_ANCHOR_AHEAD_US)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `opens more than ${MAX_ANCHOR_AHEAD_US} us after this block (${nowUs} us)`, 'tx.body.validFromUs');
}

function checkState(state: StateReader, body: CommandAnchorBody, tx: Tx, ctx: ChainContext): void {
  if (!hasRole(readAccount(state, tx.from).roles, 'dso'))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} does not hold the dso role`, 'tx.sender');
  body.deviceIds.forEach((id, i) => {
    const d = getDevice(state, id);
    if (d === undefined) throw new JouleError(ErrorCode.DEVICE_UNKNOWN, `no device ${JSON.stringify(id)} is registered`, target(i));
    if (d.status === 'revoked') throw new JouleError(ErrorCode.DEVICE_INACTIVE, `device ${JSON.stringify(id)} is revoked`, target(i));
    if (!equalBytes(d.operator, tx.from))
      throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} does not operate device ${JSON.stringify(id)}`, target(i));
    if (body.zone !== undefined && d.zone !== body.zone)
      throw new JouleError(
        ErrorCode.TX_INVALID_FIELD,
        `device ${JSON.stringify(id)} is in zone ${JSON.stringify(d.zone)}, not ${JSON.stringify(body.zone)}`,
        target(i),
      );
  });
  if (state.get(commandKey(anchorHash(tx, body))) !== undefined)
    throw new JouleError(ErrorCode.COMMAND_DUPLICATE, 'this command is already anchored', 'tx.body');
  checkTime(body, ctx.timestamp);
}

/** The hash of the command the tx anchors: its body, issued by its sender, on its chain. */
export function anchorHash(tx: Pick<Tx, 'chainId' | 'from'>, body: CommandAnchorBody): Uint8Array {
  return commandHash(tx.chainId, { ...body, issuer: tx.from });
}

function execute({ state, tx, body, block }: ExecContext<CommandAnchorBody>): BlockEvent[] {
  const hash = anchorHash(tx, body);
  putAnchoredCommand(state, hash, { ...body, issuer: tx.from, height: block.height });
  // A price pays the targets' export in the window (vm/flex/priced-command.ts), to each device's owner now.
  if (isPricedExportCommand(body)) {
    const owners = body.deviceIds.map((id) => getDevice(state, id)!.owner);
    const first = intervalHolding(body.validFromUs, block.params.settlementIntervalMs);
    queueCommandInterval(state, hash, { issuer: tx.from, deviceIds: body.deviceIds }, owners, first, block.params, block.timestamp);
  }
  return [
    {
      type: 'command-anchored',
      attributes: [
        ['commandHash', toHex(hash)],
        ['issuer', addressText(tx.from)],
        ['type', COMMAND_TYPES[body.type]],
        ['targets', String(body.deviceIds.length)],
        ['validUntilUs', body.validUntilUs.toString()],
      ],
    },
  ];
}

export const commandAnchorHandler: TxHandler<CommandAnchorBody> = {
  type: TxType.commandAnchor,
  name: 'command-anchor',
  tier: 'grid_balancing',
  decodeBody: decodeCommandAnchorBody,
  spend: () => 0n,
  keys: (body, tx) => [...body.deviceIds.map(deviceKey), commandKey(anchorHash(tx, body))],
  checkState,
  execute,
  describe: (body) => ({
    type: COMMAND_TYPES[body.type],
    deviceIds: [...body.deviceIds],
    ...(body.zone === undefined ? {} : { zone: body.zone }),
    powerLimitW: body.powerLimitW,
    priceMicroPerKwh: body.priceMicroPerKwh.toString(),
    validFromUs: body.validFromUs.toString(),
    validUntilUs: body.validUntilUs.toString(),
  }),
};
