import {
  HOURS_PER_DAY,
  MAX_AGREEMENT_SLOTS,
  MAX_COLLATERAL_BPS,
  MIN_COLLATERAL_BPS,
  priceFormulaWire,
  readPriceFormula,
  statedPrices,
  type PartyRole,
  type PriceFormula,
} from '../agreement.ts';
import { decode, encode, readAmount, readArray, readBytes, readString, readUint } from '../codec.ts';
import { checkDeviceId, MAX_DEVICE_ID_LENGTH } from '../device.ts';
import { MAX_ENERGY_WH } from '../energy.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH, formatAddress } from '../keys.ts';
import { MAX_PRICE_CAP } from '../params.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 34, agreement-propose: one party proposes a bilateral agreement to the other.
 * Wire form: [role (0: the proposer buys, 1: it sells), counterparty (20 bytes), deviceId
 * (the seller's delivering device), quantityWh (per slot), firstSlotMs, slots, price
 * formula (core/agreement.ts: [0, price] | [1, [24 prices]] | [2, premium, fallback]),
 * collateralBps (1000..2000)]. The agreement's id is this tx's hash.
 */
export interface AgreementProposeBody {
  readonly role: PartyRole;
  readonly counterparty: Uint8Array;
  readonly deviceId: string;
  readonly quantityWh: bigint;
  readonly firstSlotMs: number;
  readonly slots: number;
  readonly price: PriceFormula;
  readonly collateralBps: number;
}

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: AgreementProposeBody): void {
  if (b.role !== 'buyer' && b.role !== 'seller') throw bad('role', 'must be buyer or seller');
  if (!(b.counterparty instanceof Uint8Array) || b.counterparty.length !== ADDRESS_LENGTH) throw bad('counterparty', 'must be a 20-byte address');
  checkDeviceId(b.deviceId, 'tx.body.deviceId');
  if (typeof b.quantityWh !== 'bigint' || b.quantityWh < 1n || b.quantityWh > MAX_ENERGY_WH)
    throw bad('quantityWh', `must be an integer number of Wh, 1..${MAX_ENERGY_WH}`);
  if (!Number.isSafeInteger(b.firstSlotMs) || b.firstSlotMs < 0) throw bad('firstSlotMs', 'must be a non-negative integer (ms)');
  if (!Number.isSafeInteger(b.slots) || b.slots < 1 || b.slots > MAX_AGREEMENT_SLOTS) throw bad('slots', `must be an integer 1..${MAX_AGREEMENT_SLOTS}`);
  if (!Number.isSafeInteger(b.collateralBps) || b.collateralBps < MIN_COLLATERAL_BPS || b.collateralBps > MAX_COLLATERAL_BPS)
    throw bad('collateralBps', `must be an integer ${MIN_COLLATERAL_BPS}..${MAX_COLLATERAL_BPS} (10 % to 20 % of the contract value)`);
  const p = b.price;
  if (p.kind === 'time-of-use' && p.table.length !== HOURS_PER_DAY) throw bad('price.table', `must hold ${HOURS_PER_DAY} prices, one per hour`);
  if (p.kind !== 'fixed' && p.kind !== 'time-of-use' && p.kind !== 'market') throw bad('price', 'must be fixed, time-of-use or market');
  for (const [i, v] of statedPrices(p).entries()) {
    const min = p.kind === 'market' && i === 0 ? 0n : 1n;
    if (typeof v !== 'bigint' || v < min || v > MAX_PRICE_CAP)
      throw bad(p.kind === 'time-of-use' ? `price.table[${i}]` : 'price', 'must be a positive integer (micro-units per kWh)');
  }
}

export function encodeAgreementProposeBody(b: AgreementProposeBody): Uint8Array {
  check(b);
  return encode([b.role === 'buyer' ? 0 : 1, b.counterparty, b.deviceId, b.quantityWh, b.firstSlotMs, b.slots, priceFormulaWire(b.price), b.collateralBps]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeAgreementProposeBody(bytes: Uint8Array): AgreementProposeBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 8);
  const r = readUint(f[0]!, 'tx.body.role');
  if (r > 1) throw bad('role', `must be 0 (buyer) or 1 (seller), got ${r}`);
  const body: AgreementProposeBody = {
    role: r === 0 ? 'buyer' : 'seller',
    counterparty: readBytes(f[1]!, 'tx.body.counterparty', ADDRESS_LENGTH),
    deviceId: readString(f[2]!, 'tx.body.deviceId', MAX_DEVICE_ID_LENGTH),
    quantityWh: readAmount(f[3]!, 'tx.body.quantityWh'),
    firstSlotMs: readUint(f[4]!, 'tx.body.firstSlotMs'),
    slots: readUint(f[5]!, 'tx.body.slots'),
    price: readPriceFormula(f[6]!, 'tx.body.price'),
    collateralBps: readUint(f[7]!, 'tx.body.collateralBps'),
  };
  check(body);
  return body;
}

export function describePriceFormula(p: PriceFormula): Record<string, unknown> {
  if (p.kind === 'fixed') return { kind: p.kind, price: p.price.toString() };
  if (p.kind === 'time-of-use') return { kind: p.kind, table: p.table.map(String) };
  return { kind: p.kind, premium: p.premium.toString(), fallback: p.fallback.toString() };
}

/** The body as JSON (the VM's describe, the CLI's summary). */
export function describeAgreementPropose(b: AgreementProposeBody): Record<string, unknown> {
  return {
    role: b.role,
    counterparty: formatAddress(b.counterparty),
    deviceId: b.deviceId,
    quantityWh: b.quantityWh.toString(),
    firstSlotMs: b.firstSlotMs,
    slots: b.slots,
    price: describePriceFormula(b.price),
    collateralBps: b.collateralBps,
  };
}

export function buildAgreementPropose(args: SenderArgs & AgreementProposeBody): Tx {
  const { role, counterparty, deviceId, quantityWh, firstSlotMs, slots, price, collateralBps } = args;
  return signBody(
    args,
    TxType.agreementPropose,
    encodeAgreementProposeBody({ role, counterparty, deviceId, quantityWh, firstSlotMs, slots, price, collateralBps }),
  );
}
