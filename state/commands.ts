import { decode, encode, readAmount, readArray, readBytes, readString, readUint } from '../core/codec.ts';
import { commandFieldList, type CommandRecord, type CommandTypeId } from '../core/command.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { commandKey } from '../core/state-keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Anchored grid commands (typed view of StatePrefix.command):
 *
 *   0x13 ++ commandHash (32) -> [issuer, type, deviceIds, zone | nil, powerLimitW,
 *                                priceMicroPerKwh, validFromUs, validUntilUs, height]
 *
 * Written once by a command-anchor tx and never changed: a proof of this key at any later
 * height shows who commanded what, to whom, for which window, anchored at which height.
 */

export { commandKey };

export interface AnchoredCommand extends CommandRecord {
  /** Height of the block that anchored it. */
  readonly height: number;
}

export function encodeAnchoredCommand(c: AnchoredCommand): Uint8Array {
  return encode([c.issuer, ...commandFieldList(c), c.height]);
}

export function decodeAnchoredCommand(bytes: Uint8Array): AnchoredCommand {
  const f = readArray(decode(bytes, 'command'), 'command', 9);
  return {
    issuer: readBytes(f[0]!, 'command.issuer', ADDRESS_LENGTH),
    type: readUint(f[1]!, 'command.type') as CommandTypeId,
    deviceIds: readArray(f[2]!, 'command.deviceIds').map((v, i) => readString(v, `command.deviceIds[${i}]`)),
    zone: f[3] === null ? undefined : readString(f[3]!, 'command.zone'),
    powerLimitW: readUint(f[4]!, 'command.powerLimitW'),
    priceMicroPerKwh: readAmount(f[5]!, 'command.priceMicroPerKwh'),
    validFromUs: readAmount(f[6]!, 'command.validFromUs'),
    validUntilUs: readAmount(f[7]!, 'command.validUntilUs'),
    height: readUint(f[8]!, 'command.height'),
  };
}

export function getAnchoredCommand(state: StateReader, hash: Uint8Array): AnchoredCommand | undefined {
  const raw = state.get(commandKey(hash));
  return raw === undefined ? undefined : decodeAnchoredCommand(raw);
}

export function putAnchoredCommand(state: StateOverlay, hash: Uint8Array, c: AnchoredCommand): void {
  state.set(commandKey(hash), encodeAnchoredCommand(c));
}
