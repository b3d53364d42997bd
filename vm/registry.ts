import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { commandAnchorHandler } from './commands/anchor.ts';
import { deviceRegisterHandler } from './devices/register.ts';
import { deviceRekeyHandler } from './devices/rekey.ts';
import { deviceStatusHandler } from './devices/status.ts';
import { deviceUpdateHandler } from './devices/update.ts';
import { currencyBurnHandler, currencyMintHandler } from './currency.ts';
import { gridIntensityHandler } from './energy/grid-intensity.ts';
import { energyRetireHandler } from './energy/retire.ts';
import { energyTransferHandler } from './energy/transfer.ts';
import { evidenceHandler } from './evidence.ts';
import { roleVoteHandler } from './role-vote.ts';
import { telemetryBatchHandler } from './telemetry/batch.ts';
import { intervalCloseHook } from './telemetry/close.ts';
import { checkMeterResolutionHandler } from './telemetry/resolution.ts';
import { marketClearingHook } from './markets/clearing.ts';
import { orderCancelHandler } from './markets/cancel.ts';
import { orderPlaceHandler } from './markets/place.ts';
import { reversalApproveHandler, reversalProposeHandler } from './markets/reversal.ts';
import { marketSettlementHook } from './markets/settlement.ts';
import { transferHandler } from './transfer.ts';
import { agreementDisputeHandler, agreementVoteHandler } from './agreements/dispute.ts';
import { agreementExecutionHook } from './agreements/execution.ts';
import { agreementCollateraliseHandler, agreementSignHandler, agreementWithdrawHandler } from './agreements/lifecycle.ts';
import { agreementProposeHandler } from './agreements/propose.ts';
import { flexActivateHandler } from './flex/activate.ts';
import { flexBidHandler } from './flex/bid.ts';
import { flexConfirmHandler } from './flex/confirm.ts';
import { flexWithdrawHandler } from './flex/withdraw.ts';
import { flexSettlementHook } from './flex/settlement.ts';
import { validatorVoteHandler } from './validator-vote.ts';
import { orderHooks } from './end-block.ts';
import type { EndBlockHook, TxHandler } from './types.ts';

/**
 * The transaction-type registry: the one place that lists what this chain executes.
 * A static table (not self-registration on import), so which types exist never depends
 * on which modules happen to be imported. New types (validator votes and evidence in
 * the Consensus issue, energy and market types later) are one line each here.
 */
const TX_HANDLERS: readonly TxHandler[] = [
  transferHandler as TxHandler,
  validatorVoteHandler as TxHandler,
  evidenceHandler as TxHandler,
  deviceRegisterHandler as TxHandler,
  deviceUpdateHandler as TxHandler,
  deviceStatusHandler as TxHandler,
  deviceRekeyHandler as TxHandler,
  roleVoteHandler as TxHandler,
  telemetryBatchHandler as TxHandler,
  checkMeterResolutionHandler as TxHandler,
  gridIntensityHandler as TxHandler,
  energyTransferHandler as TxHandler,
  energyRetireHandler as TxHandler,
  currencyMintHandler as TxHandler,
  currencyBurnHandler as TxHandler,
  commandAnchorHandler as TxHandler,
  orderPlaceHandler as TxHandler,
  orderCancelHandler as TxHandler,
  agreementProposeHandler as TxHandler,
  agreementSignHandler as TxHandler,
  agreementWithdrawHandler as TxHandler,
  agreementCollateraliseHandler as TxHandler,
  agreementDisputeHandler as TxHandler,
  agreementVoteHandler as TxHandler,
  flexBidHandler as TxHandler,
  flexActivateHandler as TxHandler,
  flexConfirmHandler as TxHandler,
  flexWithdrawHandler as TxHandler,
  reversalProposeHandler as TxHandler,
  reversalApproveHandler as TxHandler,
];

/** End-of-block hooks: interval close, auction clearing, settlement against meters, agreements, flexibility settlement; rules in types.ts EndBlockHook. */
const END_BLOCK_HOOKS: readonly EndBlockHook[] = [intervalCloseHook, marketClearingHook, marketSettlementHook, agreementExecutionHook, flexSettlementHook];

const byType = new Map<number, TxHandler>();
for (const h of TX_HANDLERS) {
  if (byType.has(h.type)) throw new Error(`duplicate tx type ${h.type} (${h.name})`);
  byType.set(h.type, h);
}

/** Checked and sorted once, so execution order is defined by (order, name) alone. */
const sortedHooks: readonly EndBlockHook[] = orderHooks(END_BLOCK_HOOKS);

export function txHandler(type: number): TxHandler | undefined {
  return byType.get(type);
}

/** The handler of a tx's type; TX_UNKNOWN_TYPE otherwise. */
export function requireTxHandler(tx: Pick<Tx, 'type'>): TxHandler {
  const h = byType.get(tx.type);
  if (h === undefined) throw new JouleError(ErrorCode.TX_UNKNOWN_TYPE, `unknown transaction type ${tx.type}`, 'tx.type');
  return h;
}

/** Every registered type, by ascending id (for RPC listings and docs). */
export function registeredTxTypes(): readonly TxHandler[] {
  return [...TX_HANDLERS].sort((a, b) => a.type - b.type);
}

export function endBlockHooks(): readonly EndBlockHook[] {
  return sortedHooks;
}
