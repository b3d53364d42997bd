import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fromHexOrUndefined } from '../../core/bytes.ts';
import { deviceKeyAt } from '../../core/device.ts';
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import { blsAggregateSignatures, BLS_SIGNATURE_LENGTH } from '../../core/keys.ts';
import type { DeviceJson, StatusJson } from '../../core/rpc-json.ts';
import { parseReadingJson } from '../../core/telemetry.ts';
import { buildCheckMeterResolution, CHECK_METER_RESOLUTIONS, type CheckMeterResolution } from '../../core/tx/check-meter-resolution.ts';
import { buildTelemetryBatch, MAX_BATCH_READINGS } from '../../core/tx/telemetry-batch.ts';
import { aggregateVerifiedReadings, type SignedReading } from '../../node/telemetry/assemble.ts';
import { SameThreadVerifier } from '../../node/verify/same-thread.ts';
import { intArg } from '../args.ts';
import { CliError, type RpcClient } from '../rpc-client.ts';
import { deviceIdArg } from './query-devices.ts';
import { parseAmount, senderContext, submitTx, withSenderOptions, type SenderOptions, type SubmitOptions } from './sender.ts';

/**
 * `joule telemetry submit|resolve`: an aggregator submits its devices' signed readings as
 * telemetry batches (tx 20), checking every reading's own signature first so that a bad
 * one is named before anything is sent (node/telemetry/assemble.ts); a dso resolves an
 * interval frozen by a check-meter disagreement (tx 27).
 */

type Options = SenderOptions & SubmitOptions & { fee: string };

/** Readings a JSON file may hold (a few batches' worth). */
const MAX_FILE_READINGS = 100_000;

function cliError(e: unknown): never {
  if (isJouleError(e)) throw new CliError(e.code, e.message, e.field);
  throw e;
}

/** One reading of the file: core/telemetry.ts parseReadingJson's fields plus `signature` (0x, 96 bytes). */
export function parseSignedReading(v: unknown, path: string): SignedReading {
  const r = parseReadingJson(v, path);
  const sig = typeof (v as { signature?: unknown }).signature === 'string' ? fromHexOrUndefined((v as { signature: string }).signature) : undefined;
  if (sig === undefined || sig.length !== BLS_SIGNATURE_LENGTH)
    throw new JouleError(ErrorCode.INVALID_PARAMS, `must be the device's signature, 0x and ${BLS_SIGNATURE_LENGTH} bytes of hex`, `${path}.signature`);
  return { ...r, signature: sig };
}

/** A file of signed readings: a JSON array, or an object with a `readings` array. */
export function readSignedReadings(file: string): SignedReading[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError('INVALID_PARAMS', `--file ${file}: not readable JSON (${(e as Error).message})`, 'file');
  }
  const list = Array.isArray(raw) ? raw : (raw as { readings?: unknown } | null)?.readings;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_FILE_READINGS) {
    throw new CliError('INVALID_PARAMS', `--file ${file}: must hold a JSON array of 1..${MAX_FILE_READINGS} signed readings (or {"readings": [...]})`, 'file');
  }
  try {
    return list.map((v, i) => parseSignedReading(v, `readings[${i}]`));
  } catch (e) {
    cliError(e);
  }
}

/** Each distinct device's key valid at `height`, asked of the node (a few at a time). */
export async function deviceKeysAt(client: RpcClient, ids: readonly string[], height: number): Promise<Map<string, Uint8Array>> {
  const keys = new Map<string, Uint8Array>();
  const queue = [...new Set(ids)];
  const worker = async () => {
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
      const d = await client.call<DeviceJson | null>('joule_getDevice', [id]);
      if (d === null) continue;
      const key = deviceKeyAt({ keyHistory: d.keyHistory.map((k) => ({ key: fromHexOrUndefined(k.key)!, fromHeight: k.fromHeight })) }, height);
      if (key !== undefined) keys.set(id, key);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return keys;
}

async function submitReadings(opts: Options & { file: string; maxReadings: number }): Promise<void> {
  const readings = readSignedReadings(opts.file);
  const fee = parseAmount(opts.fee, 'fee', true);
  const ctx = await senderContext(opts);
  // Keys as of the next block: history the chain can no longer change (core/tx/telemetry-batch.ts).
  const keyHeight = (await ctx.client.call<StatusJson>('joule_status')).height + 1;
  const keys = await deviceKeysAt(
    ctx.client,
    readings.map((r) => r.deviceId),
    keyHeight,
  );
  try {
    await aggregateVerifiedReadings(new SameThreadVerifier(), readings, { chainId: ctx.chainId, keyOf: (id) => keys.get(id) });
  } catch (e) {
    cliError(e);
  }
  const batches = Math.ceil(readings.length / opts.maxReadings);
  for (let b = 0; b < batches; b++) {
    const chunk = readings.slice(b * opts.maxReadings, (b + 1) * opts.maxReadings);
    const tx = buildTelemetryBatch({
      chainId: ctx.chainId,
      seed: ctx.seed,
      nonce: ctx.nonce + b,
      fee,
      keyHeight,
      readings: chunk.map(({ signature: _, ...r }) => r),
      signature: blsAggregateSignatures(chunk.map((r) => r.signature)),
    });
    if (opts.json !== true)
      process.stderr.write(
        `batch ${b + 1}/${batches}: ${chunk.length} readings of ${new Set(chunk.map((r) => r.deviceId)).size} device(s), keys at height ${keyHeight}\n`,
      );
    await submitTx(ctx.client, tx, opts, { from: ctx.address, readings: chunk.length, keyHeight, nonce: ctx.nonce + b, fee: fee.toString() });
  }
}

async function resolveInterval(device: string, opts: Options & { interval: number; accept: string; valueWh?: string }): Promise<void> {
  if (!(CHECK_METER_RESOLUTIONS as readonly string[]).includes(opts.accept))
    throw new CliError('INVALID_PARAMS', `--accept must be one of ${CHECK_METER_RESOLUTIONS.join(', ')}`, 'accept');
  const resolution = opts.accept as CheckMeterResolution;
  if ((resolution === 'value') !== (opts.valueWh !== undefined))
    throw new CliError('INVALID_PARAMS', '--value-wh is given exactly with --accept value', 'value-wh');
  const valueWh = opts.valueWh === undefined ? undefined : parseAmount(opts.valueWh, 'value-wh', true);
  const fee = parseAmount(opts.fee, 'fee', true);
  const ctx = await senderContext(opts);
  let tx: ReturnType<typeof buildCheckMeterResolution>;
  try {
    tx = buildCheckMeterResolution({
      chainId: ctx.chainId,
      seed: ctx.seed,
      nonce: ctx.nonce,
      fee,
      deviceId: deviceIdArg(device),
      intervalStartMs: opts.interval,
      resolution,
      ...(valueWh === undefined ? {} : { valueWh }),
    });
  } catch (e) {
    cliError(e);
  }
  await submitTx(ctx.client, tx, opts, { from: ctx.address, device, intervalStartMs: opts.interval, resolution, fee: fee.toString(), nonce: ctx.nonce });
}

export function registerTelemetryCommands(program: Command): void {
  const telemetry = program.command('telemetry').description("submit devices' signed readings; resolve check-meter disagreements");
  withSenderOptions(
    telemetry
      .command('submit')
      .description(
        "submit a JSON file of signed readings as telemetry batches (your account operates the devices); every reading's signature is checked here first, and a bad one is named",
      )
      .requiredOption('--file <file>', 'JSON array of {deviceId, timestampUs, netEnergyWh, stateOfChargePercent?, signature}')
      .option('--max-readings <n>', 'readings per batch (each batch one transaction)', intArg('max-readings', 1, MAX_BATCH_READINGS), 1000),
    '25',
  ).action(submitReadings);
  withSenderOptions(
    telemetry
      .command('resolve')
      .description('resolve an interval frozen by a check-meter disagreement (your account holds the dso role)')
      .argument('<device>', 'device id')
      .requiredOption('--interval <startMs>', "the interval's start, ms", intArg('interval', 0, Number.MAX_SAFE_INTEGER))
      .requiredOption('--accept <what>', `one of ${CHECK_METER_RESOLUTIONS.join(', ')}`)
      .option('--value-wh <wh>', "with --accept value: the net export to accept, between the two meters' figures"),
    '5',
  ).action(resolveInterval);
}
