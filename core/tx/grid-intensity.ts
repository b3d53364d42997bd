import { decode, encode, readArray, readString, readUint } from '../codec.ts';
import { checkCarbonIntensity, checkZone, MAX_ZONE_LENGTH } from '../device.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 21: an oracle posts a zone's grid carbon intensity (g CO2e/kWh) for one settlement
 * interval, the figure grid imports of storage devices are charged at (vm/energy/storage-carbon.ts).
 * Wire form: [zone, intervalStartMs, carbonIntensity]
 */
export interface GridIntensityBody {
  readonly zone: string;
  /** Start of the settlement interval, a multiple of settlementIntervalMs. */
  readonly intervalStartMs: number;
  readonly carbonIntensity: number;
}

function check(b: GridIntensityBody): void {
  checkZone(b.zone, 'tx.body.zone');
  if (!Number.isSafeInteger(b.intervalStartMs) || b.intervalStartMs < 0)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'must be a non-negative integer number of ms', 'tx.body.intervalStartMs');
  checkCarbonIntensity(b.carbonIntensity, 'tx.body.carbonIntensity');
}

export function encodeGridIntensityBody(b: GridIntensityBody): Uint8Array {
  check(b);
  return encode([b.zone, b.intervalStartMs, b.carbonIntensity]);
}

export function decodeGridIntensityBody(bytes: Uint8Array): GridIntensityBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 3);
  const body: GridIntensityBody = {
    zone: readString(f[0]!, 'tx.body.zone', MAX_ZONE_LENGTH),
    intervalStartMs: readUint(f[1]!, 'tx.body.intervalStartMs'),
    carbonIntensity: readUint(f[2]!, 'tx.body.carbonIntensity'),
  };
  check(body);
  return body;
}

export function buildGridIntensity(args: SenderArgs & GridIntensityBody): Tx {
  return signBody(
    args,
    TxType.gridIntensity,
    encodeGridIntensityBody({ zone: args.zone, intervalStartMs: args.intervalStartMs, carbonIntensity: args.carbonIntensity }),
  );
}
