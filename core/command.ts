import { toHex } from './bytes.ts';
import { checkDeviceId, checkPowerW, checkZone } from './device.ts';
import { Domain, signingBytes } from './domain.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { sha256 } from './hash.ts';
import { ADDRESS_LENGTH } from './keys.ts';

/**
 * Grid commands: a dso tells devices it operates to charge, discharge, idle or curtail
 * within a validity window. The command travels to devices at once (outside consensus) and
 * its hash is anchored on chain by a command-anchor tx (type 28) for audit and settlement.
 *
 * The record holds integers and strings only: power in integer W, price in integer micro-units
 * per kWh, times in integer microseconds. Floats exist only on the device wire (GridCommand's
 * kW and cents), never in anything hashed, signed or executed.
 */

/** CHARGE, DISCHARGE, IDLE, CURTAIL: the device contract's CommandType numbers; the wire form is the index. */
export const COMMAND_TYPES = ['charge', 'discharge', 'idle', 'curtail'] as const;
export type CommandTypeName = (typeof COMMAND_TYPES)[number];
export type CommandTypeId = 0 | 1 | 2 | 3;

/** Most devices one command names (a zone resolved to more must be split). */
export const MAX_COMMAND_TARGETS = 512;
/** Longest validity window: one day, in microseconds. */
export const MAX_COMMAND_WINDOW_US = 86_400_000_000n;
/** Times and prices fit in int64. */
const MAX_INT64 = 2n ** 63n - 1n;

/** What a dso commands, and to whom. */
export interface CommandFields {
  readonly type: CommandTypeId;
  /** Target device ids, strictly ascending (so one set of targets has one encoding), 1..MAX_COMMAND_TARGETS. */
  readonly deviceIds: readonly string[];
  /** The zone the targets were resolved from, when the dso named a zone; every target is in it. */
  readonly zone: string | undefined;
  /** Integer W; 0 for IDLE. */
  readonly powerLimitW: number;
  /** Integer micro-units of the settlement currency per kWh. */
  readonly priceMicroPerKwh: bigint;
  /** Unix time, microseconds: valid from (inclusive) ... */
  readonly validFromUs: bigint;
  /** ... until (exclusive); at most MAX_COMMAND_WINDOW_US after validFromUs. */
  readonly validUntilUs: bigint;
}

/** The command record: its fields and who issued it (the address of the dso). */
export interface CommandRecord extends CommandFields {
  readonly issuer: Uint8Array;
}

/**
 * A command as the node announces it (node event 'command-issued'): what ingress pushes to
 * each connected target device as a GridCommand.
 */
export interface IssuedCommand {
  readonly commandId: string;
  readonly type: CommandTypeId;
  readonly powerLimitW: number;
  readonly priceMicroPerKwh: bigint;
  readonly validUntilUs: bigint;
  /** 32 bytes: commandHash(chainId, record). */
  readonly commandHash: Uint8Array;
  /** The resolved targets (a zone is resolved to its devices at issue). */
  readonly deviceIds: readonly string[];
  /** The issuer's address. */
  readonly issuer: Uint8Array;
}

const bad = (prefix: string, field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `${prefix}.${field}`);

function checkMicros(v: unknown, prefix: string, field: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > MAX_INT64) throw bad(prefix, field, 'must be a non-negative integer of microseconds (int64)');
}

/**
 * Shape and range of the fields; TX_INVALID_FIELD naming `${prefix}.<field>` (prefix
 * `tx.body` for the anchor tx). Time against a clock is the caller's (isCommandExpired).
 */
export function checkCommandFields(c: CommandFields, prefix = 'tx.body'): void {
  if (!Number.isInteger(c.type) || c.type < 0 || c.type >= COMMAND_TYPES.length)
    throw bad(prefix, 'type', `must be 0 (charge), 1 (discharge), 2 (idle) or 3 (curtail), got ${String(c.type)}`);
  if (!Array.isArray(c.deviceIds) || c.deviceIds.length === 0 || c.deviceIds.length > MAX_COMMAND_TARGETS)
    throw bad(prefix, 'deviceIds', `must name 1..${MAX_COMMAND_TARGETS} devices`);
  c.deviceIds.forEach((id, i) => {
    checkDeviceId(id, `${prefix}.deviceIds[${i}]`);
    if (i > 0 && !(c.deviceIds[i - 1]! < id)) throw bad(prefix, `deviceIds[${i}]`, 'device ids must be strictly ascending (sorted, no repeats)');
  });
  if (c.zone !== undefined) checkZone(c.zone, `${prefix}.zone`);
  checkPowerW(c.powerLimitW, `${prefix}.powerLimitW`);
  if (c.type === 2 && c.powerLimitW !== 0) throw bad(prefix, 'powerLimitW', 'must be 0 for an idle command');
  if (typeof c.priceMicroPerKwh !== 'bigint' || c.priceMicroPerKwh < 0n || c.priceMicroPerKwh > MAX_INT64)
    throw bad(prefix, 'priceMicroPerKwh', 'must be a non-negative integer of micro-units per kWh (int64)');
  checkMicros(c.validFromUs, prefix, 'validFromUs');
  checkMicros(c.validUntilUs, prefix, 'validUntilUs');
  if (c.validUntilUs <= c.validFromUs) throw bad(prefix, 'validUntilUs', 'must be after validFromUs');
  if (c.validUntilUs - c.validFromUs > MAX_COMMAND_WINDOW_US)
    throw bad(prefix, 'validUntilUs', `the window may last at most ${MAX_COMMAND_WINDOW_US} us (one day)`);
}

/** The command fields in wire order: [type, deviceIds, zone | nil, powerLimitW, priceMicroPerKwh, validFromUs, validUntilUs]. */
export function commandFieldList(c: CommandFields): (number | bigint | string | null | string[])[] {
  return [c.type, [...c.deviceIds], c.zone ?? null, c.powerLimitW, c.priceMicroPerKwh, c.validFromUs, c.validUntilUs];
}

/**
 * What the command hash covers: encode(["JOULE/grid-command/v1", chainId, issuer, type,
 * deviceIds, zone | nil, powerLimitW, priceMicroPerKwh, validFromUs, validUntilUs]). The
 * domain tag and chain id keep a command of one chain (or a message of another kind) from
 * ever hashing alike.
 */
export function commandHashPayload(chainId: string, c: CommandRecord): Uint8Array {
  if (!(c.issuer instanceof Uint8Array) || c.issuer.length !== ADDRESS_LENGTH) throw bad('command', 'issuer', `must be a ${ADDRESS_LENGTH}-byte address`);
  return signingBytes(Domain.gridCommand, chainId, [c.issuer, ...commandFieldList(c)]);
}

/** sha256 of the hash payload: what the anchor records and the device receives as command_hash. */
export function commandHash(chainId: string, c: CommandRecord): Uint8Array {
  return sha256(commandHashPayload(chainId, c));
}

/** The command id devices see: the hash in hex (unique as the hash is). */
export function commandIdOf(hash: Uint8Array): string {
  return toHex(hash);
}

/** A command whose window has ended by `nowUs` is never delivered. */
export function isCommandExpired(c: Pick<CommandFields, 'validUntilUs'>, nowUs: bigint): boolean {
  return c.validUntilUs <= nowUs;
}

/** The announcement of a command. */
export function issuedCommand(chainId: string, c: CommandRecord): IssuedCommand {
  const hash = commandHash(chainId, c);
  return {
    commandId: commandIdOf(hash),
    type: c.type,
    powerLimitW: c.powerLimitW,
    priceMicroPerKwh: c.priceMicroPerKwh,
    validUntilUs: c.validUntilUs,
    commandHash: hash,
    deviceIds: c.deviceIds,
    issuer: c.issuer,
  };
}

/** Sorted and de-duplicated target ids (what checkCommandFields requires). */
export function canonicalTargets(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
