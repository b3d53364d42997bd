import type { BlockEvent } from '../../core/block.ts';
import { scheduleValue, statedPrices, type Agreement } from '../../core/agreement.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { decodeAgreementProposeBody, describeAgreementPropose, type AgreementProposeBody } from '../../core/tx/agreement-propose.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { createAgreement, putTimer } from '../../state/agreements.ts';
import { deviceKey } from '../../state/devices.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText } from '../accounts.ts';
import { requireDevice } from '../devices/rules.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';

/**
 * Type 34, agreement-propose: the sender proposes to the counterparty; it moves no money.
 * Rules: the parties differ; the first slot is aligned to settlementIntervalMs and starts
 * after the block's time (so a start timer is never due in the block that queues it);
 * every stated price at most the price cap; the device is registered, active and owned by
 * the seller. The zone is the device's at proposal. The agreement's id is the tx's hash.
 */

function validate(body: AgreementProposeBody, _tx: Tx, ctx: ChainContext): void {
  for (const p of statedPrices(body.price))
    if (p > ctx.params.priceCap)
      throw new JouleError(ErrorCode.TX_INVALID_FIELD, `${p} is above the chain's price cap of ${ctx.params.priceCap} per kWh`, 'tx.body.price');
  if (body.firstSlotMs % ctx.params.settlementIntervalMs !== 0)
    throw new JouleError(
      ErrorCode.TX_INVALID_FIELD,
      `must be a multiple of the settlement interval (${ctx.params.settlementIntervalMs} ms)`,
      'tx.body.firstSlotMs',
    );
}

const sellerOf = (body: AgreementProposeBody, tx: Pick<Tx, 'from'>) => (body.role === 'seller' ? tx.from : body.counterparty);

function checkState(state: StateReader, body: AgreementProposeBody, tx: Tx, ctx: ChainContext): void {
  if (equalBytes(body.counterparty, tx.from)) throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'the counterparty is the sender', 'tx.body.counterparty');
  if (ctx.timestamp !== undefined && body.firstSlotMs <= ctx.timestamp)
    throw new JouleError(
      ErrorCode.AGREEMENT_PHASE,
      `the first slot starts at ${body.firstSlotMs} ms, not after the block time ${ctx.timestamp} ms`,
      'tx.body.firstSlotMs',
    );
  const d = requireDevice(state, body.deviceId, 'tx.body.deviceId');
  if (!equalBytes(d.owner, sellerOf(body, tx)))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `device ${JSON.stringify(d.id)} is not owned by the seller`, 'tx.body.deviceId');
  if (d.status !== 'active') throw new JouleError(ErrorCode.DEVICE_INACTIVE, `device ${JSON.stringify(d.id)} is ${d.status}`, 'tx.body.deviceId');
}

function execute({ state, tx, body, block }: ExecContext<AgreementProposeBody>): BlockEvent[] {
  checkState(state, body, tx, block);
  const d = requireDevice(state, body.deviceId, 'tx.body.deviceId');
  const seller = sellerOf(body, tx);
  const a: Agreement = {
    id: tx.hash,
    buyer: body.role === 'buyer' ? tx.from : body.counterparty,
    seller,
    proposer: body.role,
    deviceId: body.deviceId,
    zone: d.zone,
    quantityWh: body.quantityWh,
    firstSlotMs: body.firstSlotMs,
    slots: body.slots,
    price: body.price,
    collateralBps: body.collateralBps,
    phase: 'proposed',
    proposedAtMs: block.timestamp,
    signedAtMs: 0,
    settledAtMs: 0,
    buyerCollateral: 0n,
    sellerCollateral: 0n,
    nextSlot: 0,
    remainingValue: scheduleValue(body, 0, block.params.settlementIntervalMs),
    buyerCallMs: 0,
    sellerCallMs: 0,
    deliveredWh: 0n,
    paid: 0n,
  };
  createAgreement(state, a);
  // At the first slot's start the hook moves a collateralised agreement to executing, and lets any other lapse.
  putTimer(state, a.firstSlotMs, a, 'start', 0);
  return [
    {
      type: 'agreement-proposed',
      attributes: [
        ['agreement', toHex(a.id)],
        ['buyer', addressText(a.buyer)],
        ['seller', addressText(a.seller)],
        ['device', a.deviceId],
        ['quantityWh', a.quantityWh.toString()],
        ['firstSlotMs', String(a.firstSlotMs)],
        ['slots', String(a.slots)],
        ['value', ((a.remainingValue + 999n) / 1000n).toString()],
      ],
    },
  ];
}

export const agreementProposeHandler: TxHandler<AgreementProposeBody> = {
  type: TxType.agreementPropose,
  name: 'agreement-propose',
  tier: 'peer_to_peer',
  decodeBody: decodeAgreementProposeBody,
  validate,
  spend: () => 0n,
  keys: (body) => [deviceKey(body.deviceId)],
  checkState,
  execute,
  describe: describeAgreementPropose,
};
