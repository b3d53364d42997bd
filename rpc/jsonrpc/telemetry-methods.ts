/**
 * JSON-RPC methods of telemetry: joule_getReadings (a device's counted readings, bounded
 * pages), joule_getIntervalTotals (its metered totals per settlement interval),
 * joule_getDeviceHealth (missing data, the de-rated estimate, flagged or in dispatch).
 * joule_sendTelemetryBatch is joule_sendRawTransaction for a telemetry batch (type 20)
 * only. The reads use optional NodeApi members; a node without one answers UNAVAILABLE
 * (-32000).
 */
import { isDeviceId } from '../../core/device.ts';
import type { DeviceHealthJson, IntervalTotalsListJson, ReadingListJson } from '../../core/rpc-json.ts';
import { INT64_MAX } from '../../core/telemetry.ts';
import { TxType } from '../../core/tx/types.ts';
import { decodeTx } from '../../core/tx.ts';
import { hex } from './json-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { arity, invalid, need, parseHexParam, typeName } from './params.ts';
import { formatDeviceHealth, formatIntervalTotals, formatReading } from './telemetry-format.ts';
import type { NodeApi } from '../node-api.ts';

/** Most readings one joule_getReadings call returns (and the default). */
export const MAX_READINGS_PAGE = 1000;
/** Most interval totals one joule_getIntervalTotals call returns (and the default). */
export const MAX_INTERVALS_PAGE = 100;

function deviceParam(v: unknown): string {
  if (!isDeviceId(v)) throw invalid('params[0]', `must be a device id (1-64 of letters, digits, ".", "_", ":", "-"), got ${typeName(v)}`);
  return v;
}

function options(v: unknown, fields: readonly string[]): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('params[1]', `must be an object {${fields.join(', ')}}, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!fields.includes(k)) throw invalid(`params[1].${k}`, 'unknown field');
  return o;
}

/** A µs timestamp: a decimal string or a safe integer, 0..2^63-1. */
function microseconds(v: unknown, field: string, fallback: bigint): bigint {
  if (v === undefined || v === null) return fallback;
  let n: bigint | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^[0-9]{1,19}$/.test(v)) n = BigInt(v);
  if (n === undefined || n < 0n || n > INT64_MAX) throw invalid(field, 'must be a µs timestamp (a decimal string or a safe integer, 0..2^63-1)');
  return n;
}

function milliseconds(v: unknown, field: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(field, `must be a non-negative integer ms timestamp, got ${typeName(v)}`);
  return v;
}

function limitParam(v: unknown, max: number): number {
  if (v === undefined || v === null) return max;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) throw invalid('params[1].limit', `must be an integer 1..${max}`);
  return v;
}

export function addTelemetryMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_sendTelemetryBatch', async (p) => {
    arity(p, 1, 1);
    const bytes = parseHexParam(p[0], 'params[0]');
    if (decodeTx(bytes).type !== TxType.telemetryBatch)
      throw invalid('params[0]', `must be a telemetry batch (tx type ${TxType.telemetryBatch}); send other transactions with joule_sendRawTransaction`);
    return { hash: hex((await api.submitTransaction(bytes)).hash) };
  });

  m.set('joule_getReadings', async (p, ctx): Promise<ReadingListJson> => {
    arity(p, 1, 2);
    const get = need(api.getReadings, 'readings').bind(api);
    const device = deviceParam(p[0]);
    const o = options(p[1], ['fromUs', 'toUs', 'limit']);
    const fromUs = microseconds(o.fromUs, 'params[1].fromUs', 0n);
    const toUs = microseconds(o.toUs, 'params[1].toUs', INT64_MAX);
    const limit = limitParam(o.limit, MAX_READINGS_PAGE);
    const readings = await get(device, { fromUs, toUs, limit }, ctx.signal);
    const last = readings[readings.length - 1];
    const more = readings.length === limit && last !== undefined && last.timestampUs < toUs;
    return { device, readings: readings.map(formatReading), nextFromUs: more ? (last.timestampUs + 1n).toString() : null };
  });

  m.set('joule_getIntervalTotals', async (p, ctx): Promise<IntervalTotalsListJson> => {
    arity(p, 1, 2);
    const get = need(api.getIntervalTotals, 'interval totals').bind(api);
    const device = deviceParam(p[0]);
    const o = options(p[1], ['from', 'to', 'limit']);
    const fromMs = milliseconds(o.from, 'params[1].from', 0);
    const toMs = milliseconds(o.to, 'params[1].to', Number.MAX_SAFE_INTEGER);
    const limit = limitParam(o.limit, MAX_INTERVALS_PAGE);
    const { intervals, settlementIntervalMs } = await get(device, { fromMs, toMs, limit }, ctx.signal);
    const last = intervals[intervals.length - 1];
    const more = intervals.length === limit && last !== undefined && last.intervalStartMs < toMs;
    return { device, intervals: intervals.map((t) => formatIntervalTotals(t, settlementIntervalMs)), nextFrom: more ? last.intervalStartMs + 1 : null };
  });

  m.set('joule_getDeviceHealth', async (p): Promise<DeviceHealthJson | null> => {
    arity(p, 1, 1);
    const get = need(api.getDeviceHealth, 'device health').bind(api);
    const v = await get(deviceParam(p[0]));
    return v === undefined ? null : formatDeviceHealth(v);
  });
}
