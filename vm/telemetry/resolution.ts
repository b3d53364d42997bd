import type { BlockEvent } from '../../core/block.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { netEnergy, type IntervalTotals } from '../../core/meter.ts';
import { hasRole } from '../../core/roles.ts';
import { decodeCheckMeterResolutionBody, type CheckMeterResolutionBody } from '../../core/tx/check-meter-resolution.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putSettleResolved } from '../../state/markets.ts';
import type { StateReader } from '../../state/overlay.ts';
import { getIntervalTotals, putIntervalTotals } from '../../state/telemetry.ts';
import { addressText, readAccount } from '../accounts.ts';
import { frozenInterval, unfreezeInterval } from '../energy/mint.ts';
import type { ExecContext, TxHandler } from '../types.ts';
import { checkMeterResolutionKeys } from './access.ts';

/**
 * Type 27, check-meter-resolution: a dso resolves an interval frozen because the device
 * and its check meter disagreed beyond meterAccuracyPermille. It accepts the device's net
 * export, the check meter's, or a value between the two (inclusive); the interval's frozen
 * UTXO is set to that many Wh and unfrozen (vm/energy/mint.ts unfreezeInterval; 0 Wh
 * removes it), and the interval's totals say `resolved` with the accepted value. It marks
 * the (interval, device) resolved at its height (state/markets.ts settleResolvedKey), one
 * write whatever the device traded: the market trades the freeze held settle from the next
 * block (vm/markets/settlement.ts).
 */

function frozenTotals(state: StateReader, body: CheckMeterResolutionBody): IntervalTotals {
  const t = getIntervalTotals(state, body.deviceId, body.intervalStartMs);
  if (t === undefined || t.status !== 'frozen' || t.check === undefined || frozenInterval(state, body.deviceId, body.intervalStartMs) === undefined) {
    const what = t === undefined ? 'has no totals kept for' : `is ${t.status} for`;
    throw new JouleError(
      ErrorCode.INTERVAL_NOT_FROZEN,
      `device ${JSON.stringify(body.deviceId)} ${what} the interval starting at ${body.intervalStartMs}: nothing to resolve`,
      'tx.body.intervalStartMs',
    );
  }
  return t;
}

/** The net export the resolution accepts; TX_INVALID_FIELD naming tx.body.valueWh for a value outside the two meters' figures. */
export function acceptedWh(t: IntervalTotals, body: CheckMeterResolutionBody): bigint {
  const device = netEnergy(t).exportWh;
  const check = netEnergy(t.check!).exportWh;
  if (body.resolution === 'device') return device;
  if (body.resolution === 'check-meter') return check;
  const lo = device < check ? device : check;
  const hi = device < check ? check : device;
  const v = body.valueWh!;
  if (v < lo || v > hi) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `${v} Wh is outside the two meters' net exports (${lo}..${hi} Wh)`, 'tx.body.valueWh');
  return v;
}

function checkState(state: StateReader, body: CheckMeterResolutionBody, tx: Tx): void {
  if (!hasRole(readAccount(state, tx.from).roles, 'dso'))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} does not hold the dso role`, 'tx.sender');
  acceptedWh(frozenTotals(state, body), body);
}

function execute({ state, body, block }: ExecContext<CheckMeterResolutionBody>): BlockEvent[] {
  const t = frozenTotals(state, body);
  const accepted = acceptedWh(t, body);
  const utxo = unfreezeInterval(state, body.deviceId, body.intervalStartMs, accepted);
  putIntervalTotals(state, { ...t, status: 'resolved', mintedWh: accepted, utxoId: utxo?.id });
  putSettleResolved(state, body.intervalStartMs, body.deviceId, block.height);
  return [
    {
      type: 'interval-resolved',
      attributes: [
        ['device', body.deviceId],
        ['intervalStartMs', String(body.intervalStartMs)],
        ['resolution', body.resolution],
        ['acceptedWh', accepted.toString()],
      ],
    },
  ];
}

export const checkMeterResolutionHandler: TxHandler<CheckMeterResolutionBody> = {
  type: TxType.checkMeterResolution,
  name: 'check-meter-resolution',
  tier: 'carbon_credit',
  decodeBody: decodeCheckMeterResolutionBody,
  spend: () => 0n,
  keys: checkMeterResolutionKeys,
  checkState,
  execute,
  describe: (body) => ({
    deviceId: body.deviceId,
    intervalStartMs: body.intervalStartMs,
    resolution: body.resolution,
    ...(body.valueWh === undefined ? {} : { valueWh: body.valueWh.toString() }),
  }),
};
