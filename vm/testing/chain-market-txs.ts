/**
 * The market, agreement and flexibility txs of the whole-VM test (vm/testing/chain-ops.ts
 * ops; not used by the node): orders (one, or a burst in one market), agreement proposals
 * and actions on agreements in the phase they act on, flex bids, activations,
 * confirmations and withdrawals.
 */
import { collateralLevel, COOLING_OFF_MS } from '../../core/agreement.ts';
import { utf8 } from '../../core/bytes.ts';
import {
  buildAgreementCollateralise,
  buildAgreementDispute,
  buildAgreementSign,
  buildAgreementVote,
  buildAgreementWithdraw,
} from '../../core/tx/agreement-actions.ts';
import { buildAgreementPropose } from '../../core/tx/agreement-propose.ts';
import { buildFlexActivate } from '../../core/tx/flex-activate.ts';
import { buildFlexBid } from '../../core/tx/flex-bid.ts';
import { buildFlexConfirm } from '../../core/tx/flex-confirm.ts';
import { buildFlexWithdraw } from '../../core/tx/flex-withdraw.ts';
import { buildOrderPlace } from '../../core/tx/order-place.ts';
import { getDevice } from '../../state/devices.ts';
import type { Op } from './chain-ops.ts';
import { byName, HOSTILE, intervalAt, pickOf, PRICE_KINDS, validatorOr, type Built, type BuildContext } from './chain-build.ts';
import { addressOf, DEVICE_IDS, DEVICES, ZONES } from './chain-world.ts';

/** An order in the market (ZONES[zone], k intervals ahead): mostly NL, one or two intervals ahead; with flag 4 an unaligned start, 5 the other zone, 6 beyond the device's limit. */
export function orderPlace(
  x: BuildContext,
  op: Op,
  side: 'bid' | 'ask' = op.a % 2 === 0 ? 'bid' : 'ask',
  zoneAt = op.b % 4 === 0 ? 1 : 0,
  k = [1, 1, 2, 2, 3, 0][op.b % 6]!,
): Built | undefined {
  const home = ZONES[zoneAt]!;
  const sellers = DEVICES.filter((d) => d.kind !== 'meter' && d.zone === home);
  const device = sellers[op.pick % sellers.length]!;
  const sender = side === 'ask' && op.flag !== 7 ? x.w.accounts[device.owner]! : byName(x.w, ['b0', 'b1', 's0', 's1', 's2', 'agg'], op);
  const zone = op.flag === HOSTILE ? ZONES[(zoneAt + 1) % 2]! : home;
  const intervalStartMs = intervalAt(x, k) + (op.flag === 4 ? 1000 : 0);
  const volumeWh = op.flag === 6 ? 10n ** 12n : BigInt((op.pick % 400) + 1);
  // Bids mostly above asks, so books cross.
  const price = BigInt((side === 'bid' ? 100_000 : 50_000) + ((op.a >> 1) % 200_000));
  // A bid names its sender's load now and then (b0's ld-0 in NL, b1's ld-1 in DE).
  const load = DEVICES.find((d) => d.kind === 'load' && x.w.accounts[d.owner] === sender && d.zone === zone);
  const deviceId = side === 'ask' ? device.id : op.b % 3 === 0 ? load?.id : undefined;
  return { sender, make: (s) => buildOrderPlace({ ...s, side, zone, intervalStartMs, volumeWh, price, deviceId }) };
}

/** Several orders, both sides, in one market: books deep enough for budgets of a few units to stop the clearing and settlement part-way. */
export function orderBurst(x: BuildContext, op: Op): Built[] {
  const n = 2 + (op.a % 7);
  return Array.from({ length: n }, (_, i) =>
    orderPlace(
      x,
      { ...op, who: op.who + i, pick: op.pick + i * 37, a: op.a + i * 7919, flag: i === n - 1 ? op.flag : 0 },
      i % 2 === 0 ? 'bid' : 'ask',
      op.b % 3 === 0 ? 1 : 0,
      1 + (op.b % 2),
    ),
  ).filter((b) => b !== undefined);
}

export function agreementTx(x: BuildContext, op: Op): Built | undefined {
  // Mostly an agreement in a phase the kind acts on (flag 6: any at all).
  const phases: Readonly<Record<string, readonly string[]>> = {
    sign: ['proposed'],
    withdraw: ['proposed', 'signed'],
    collateralise: ['signed', 'collateralised', 'executing', 'disputed'],
    dispute: ['executing', 'settled'],
    vote: ['disputed'],
  };
  const ready = (g: { value: { phase: string; signedAtMs: number } }) => g.value.phase !== 'signed' || g.value.signedAtMs + COOLING_OFF_MS <= x.now;
  const live = x.targets.agreements.filter((g) => phases[op.kind]!.includes(g.value.phase) && (op.kind !== 'collateralise' || ready(g)));
  const g = pickOf(op.flag === 6 || live.length === 0 ? x.targets.agreements : live, op.pick);
  if (g === undefined) return undefined;
  const a = g.value;
  const party = (k: number) => x.w.senders.find((s) => addressOf(s).every((b, i) => b === (k % 2 === 0 ? a.buyer : a.seller)[i]))!;
  const anyone = x.w.senders[op.who % x.w.senders.length]!;
  const id = g.id;
  switch (op.kind) {
    case 'sign': {
      const signer = op.flag === 7 ? anyone : party(a.proposer === 'buyer' ? 1 : 0);
      return { sender: signer, make: (s) => buildAgreementSign({ ...s, id }) };
    }
    case 'withdraw':
      return { sender: op.flag === 7 ? anyone : party(op.a), make: (s) => buildAgreementWithdraw({ ...s, id }) };
    case 'collateralise': {
      // Mostly the party short of the level.
      const level0 = collateralLevel(a.remainingValue, a.collateralBps);
      const who = op.a % 4 === 0 ? op.b % 2 : a.buyerCollateral < level0 ? 0 : 1;
      const held = who === 0 ? a.buyerCollateral : a.sellerCollateral;
      const level = collateralLevel(a.remainingValue, a.collateralBps);
      const amount = op.flag === 6 ? 10n ** 15n : op.flag === HOSTILE || level <= held ? BigInt((op.b % 200_000) + 1) : level - held;
      return { sender: op.flag === 7 ? anyone : party(who), make: (s) => buildAgreementCollateralise({ ...s, id, amount }) };
    }
    case 'dispute': {
      const who = op.a % 2;
      const counterparty = op.flag === HOSTILE ? (who === 0 ? a.buyer : a.seller) : who === 0 ? a.seller : a.buyer;
      const amount = BigInt((op.b % 500_000) + 1);
      return { sender: op.flag === 7 ? anyone : party(who), make: (s) => buildAgreementDispute({ ...s, id, amount, counterparty }) };
    }
    default: {
      const decision = op.a % 2 === 0 ? 'buyer' : 'seller';
      const seller = op.flag === HOSTILE ? a.buyer : a.seller;
      return { sender: validatorOr(x.w, op), make: (s) => buildAgreementVote({ ...s, id, decision, buyer: a.buyer, seller }) };
    }
  }
}

export function flexTx(x: BuildContext, op: Op): Built | undefined {
  const iv = x.params.settlementIntervalMs;
  if (op.kind === 'flex-bid') {
    const agg = byName(x.w, ['agg', 'agg2'], op);
    const fleet = DEVICE_IDS.filter((id) => {
      const d = getDevice(x.state, id);
      return d !== undefined && d.status !== 'revoked' && addressOf(agg).every((b, i) => b === d.operator[i]);
    }).filter((_, i) => op.flag === 6 || ((op.pick >> i) & 1) === 1);
    if (fleet.length === 0) return undefined;
    const capacityKw = op.flag === 6 ? 10_000_000 : (op.a % (fleet.length * 200)) + 1;
    const from = intervalAt(x, (op.b % 4) - 1);
    const until = from + ((op.a % 12) + 3) * iv;
    return {
      sender: agg,
      make: (s) =>
        buildFlexBid({
          ...s,
          deviceIds: fleet,
          capacityKw,
          rampUpKwPerMin: (op.b % 3000) + 1,
          rampDownKwPerMin: 500,
          minSocPercent: 10,
          maxSocPercent: 90,
          pricePerMwh: BigInt((op.a % 200_000_000) + 1),
          availableFromMs: from,
          availableUntilMs: until,
        }),
    };
  }
  const open = x.targets.bids.filter((b) => b.value.availableUntilMs > x.now);
  if (op.kind === 'flex-activate') {
    const bid = pickOf(op.flag === 6 || open.length === 0 ? x.targets.bids : open, op.pick);
    const bidId = bid?.id ?? utf8('no such bid, 32 bytes long......');
    const earliest = Math.max(intervalAt(x, 1), bid === undefined ? 0 : Math.max(bid.value.reservedUntilMs, bid.value.availableFromMs));
    const start = (Math.ceil(earliest / iv) + (op.b % 2)) * iv + (op.flag === 4 ? 1 : 0);
    const powerKw = op.flag === 6 ? (bid?.value.capacityKw ?? 0) + 1 : (op.a % (bid?.value.capacityKw ?? 1000)) + 1;
    const endMs = bid === undefined ? start + iv : Math.min(start + ((op.a % 3) + 1) * iv, Math.floor(bid.value.availableUntilMs / iv) * iv);
    return { sender: byName(x.w, ['dso', 'dso2'], op), make: (s) => buildFlexActivate({ ...s, bidId, powerKw, startMs: start, endMs }) };
  }
  if (op.kind === 'flex-confirm') {
    const pending = x.targets.activations.filter((a) => a.value.status === 'pending');
    const act = pickOf(op.flag === 6 || pending.length === 0 ? x.targets.activations : pending, op.pick);
    if (act === undefined) return undefined;
    const agg =
      op.flag === 7 ? x.w.senders[op.who % x.w.senders.length]! : x.w.senders.find((s) => addressOf(s).every((b, i) => b === act.value.aggregator[i]))!;
    return { sender: agg, make: (s) => buildFlexConfirm({ ...s, activationId: act.id }) };
  }
  const bid = pickOf(op.flag === 6 || open.length === 0 ? x.targets.bids : open, op.pick);
  if (bid === undefined) return undefined;
  const agg = op.flag === 7 ? x.w.senders[op.who % x.w.senders.length]! : x.w.senders.find((s) => addressOf(s).every((b, i) => b === bid.value.aggregator[i]))!;
  return { sender: agg, make: (s) => buildFlexWithdraw({ ...s, bidId: bid.id }) };
}

/** A proposal of an agreement on a device that delivers, by its seller or the buyer (flag 7: anyone). */
export function proposeTx(x: BuildContext, op: Op): Built | undefined {
  const { w } = x;
  const anyone = w.senders[op.who % w.senders.length]!;
  const devices = DEVICES.filter((d) => d.kind !== 'meter' && d.kind !== 'load');
  const d = devices[op.pick % devices.length]!;
  const seller = w.accounts[d.owner]!;
  const buyer = w.accounts[['b0', 'b1', 's2'][op.a % 3]!]!;
  const bySeller = op.b % 2 === 0;
  const proposer = op.flag === 7 ? anyone : bySeller ? seller : buyer;
  return {
    sender: proposer,
    make: (s) =>
      buildAgreementPropose({
        ...s,
        role: bySeller ? 'seller' : 'buyer',
        counterparty: bySeller ? buyer.address : seller.address,
        deviceId: d.id,
        quantityWh: BigInt((op.a % 2000) + 1),
        firstSlotMs: intervalAt(x, 4 + (op.b % 8)),
        slots: (op.pick % 4) + 1,
        price: PRICE_KINDS(BigInt((op.a % 300_000) + 1))[op.b % 3]!,
        collateralBps: 1000 + (op.b % 1001),
      }),
  };
}
