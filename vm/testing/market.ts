/**
 * A small market for tests of the double auction and settlement (not used by the node):
 * an energy chain (vm/testing/energy-chain.ts) with sellers owning 1 MW devices in zone NL,
 * buyers, and helpers to place orders, reach gate closure and send meter data.
 */
import { mintedUtxoId } from '../../core/energy.ts';
import type { BlsKeyPair } from '../../core/keys.ts';
import type { ChainParams } from '../../core/params.ts';
import { orderId, type Side } from '../../core/market.ts';
import { settlesAt } from '../../core/meter.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildOrderCancel } from '../../core/tx/order-cancel.ts';
import { buildOrderPlace } from '../../core/tx/order-place.ts';
import type { Tx } from '../../core/tx.ts';
import { getAccount } from '../../state/accounts.ts';
import { getUtxo, ownerUtxoPrefix } from '../../state/energy.ts';
import type { StateReader } from '../../state/overlay.ts';
import { imbalanceAccount } from '../../core/market.ts';
import { energyChain, registerBody, testDeviceKey, type EnergyChain } from './energy-chain.ts';
import type { TestKey } from './fixtures.ts';
import { batchTx, reading } from './telemetry.ts';

export const ZONE = 'NL';

export interface TestMarket {
  readonly c: EnergyChain;
  readonly agg: TestKey;
  readonly dso: TestKey;
  readonly sellers: readonly TestKey[];
  readonly buyers: readonly TestKey[];
  /** The start of the market's delivery interval (its gate closes gateClosureLeadMs before). */
  readonly I: number;
  /** An order-place tx; `offset` for a second tx of one sender in one block. */
  place(who: TestKey, side: Side, volumeWh: bigint, price: bigint, opts?: { device?: string; offset?: number; I?: number; zone?: string }): Tx;
  cancel(who: TestKey, id: Uint8Array): Tx;
  /** The id the order placed as the `index`-th tx of the block at `height` gets. */
  idOf(side: Side, price: bigint, height: number, index: number, device?: string, I?: number): Uint8Array;
  /** Advances the clock to the market's gate closure (the next block clears it). */
  toGate(): void;
  /** Sends `exportWh` of export for devices (`pv-<i>`, `cm-0`) inside the delivery interval (one block). */
  deliver(entries: readonly [string, bigint][]): void;
  /** Advances to the interval's settlement (the next block closes it and settles). */
  toSettlement(): void;
  /** Money in every account of the test plus the imbalance account: balance + locked. */
  money(state?: StateReader): bigint;
  /** Wh held by `who` in energy UTXOs. */
  energyOf(who: Uint8Array): bigint;
}

/** `checkMeter`: seller 0's device pv-0 has a check meter cm-0 (operated by agg). */
export function testMarket(opts: { sellers?: number; buyers?: number; maxExportW?: number; checkMeter?: boolean; params?: ChainParams } = {}): TestMarket {
  const nS = opts.sellers ?? 3;
  const nB = opts.buyers ?? 3;
  const names: Record<string, readonly ('aggregator' | 'dso')[]> = { agg: ['aggregator'], dso: ['dso'] };
  for (let i = 0; i < nS; i++) names[`s${i}`] = [];
  for (let i = 0; i < nB; i++) names[`b${i}`] = [];
  const c = energyChain({ accounts: names, params: opts.params });
  const agg = c.accounts.agg!;
  const sellers = Array.from({ length: nS }, (_, i) => c.accounts[`s${i}`]!);
  const buyers = Array.from({ length: nB }, (_, i) => c.accounts[`b${i}`]!);
  const keys: BlsKeyPair[] = sellers.map((_, i) => testDeviceKey(i + 1));
  const maxExportW = opts.maxExportW ?? 1_000_000;
  const cmKey = testDeviceKey(100);
  if (opts.checkMeter === true)
    c.block(buildDeviceRegister({ ...c.sender(agg), device: registerBody('cm-0', cmKey, agg.address, { kind: 'meter', maxExportW, maxImportW: maxExportW }) }));
  c.block(
    ...sellers.map((s, i) =>
      buildDeviceRegister({
        ...c.sender(agg, i),
        device: registerBody(`pv-${i}`, keys[i]!, s.address, {
          maxExportW,
          maxImportW: maxExportW,
          checkMeter: i === 0 && opts.checkMeter === true ? 'cm-0' : undefined,
        }),
      }),
    ),
  );
  const p = c.ctx().params;
  const iv = p.settlementIntervalMs;
  // Two intervals ahead: the gate is comfortably in the future.
  const I = (Math.floor(c.now() / iv) + 2) * iv;
  const all = [...sellers, ...buyers, agg, c.accounts.dso!];
  const m: TestMarket = {
    c,
    agg,
    dso: c.accounts.dso!,
    sellers,
    buyers,
    I,
    place: (who, side, volumeWh, price, o = {}) =>
      buildOrderPlace({
        ...c.sender(who, o.offset ?? 0),
        side,
        zone: o.zone ?? ZONE,
        intervalStartMs: o.I ?? I,
        volumeWh,
        price,
        deviceId: o.device ?? (side === 'ask' ? `pv-${sellers.indexOf(who)}` : undefined),
      }),
    cancel: (who, id) => buildOrderCancel({ ...c.sender(who), orderId: id }),
    idOf: (side, price, height, index, device, at) => orderId({ zone: ZONE, intervalStartMs: at ?? I, side, price, height, index, deviceId: device }),
    toGate() {
      const gate = I - p.gateClosureLeadMs;
      if (c.now() < gate) c.advance(gate - c.now());
    },
    deliver(entries) {
      if (c.now() < I + 100) c.advance(I + 100 - c.now());
      const t = c.now();
      const readings = entries.map(([id, wh]) => reading(id, t, -wh));
      c.block(batchTx(c, agg, readings, (id) => (id === 'cm-0' ? cmKey : keys[Number(id.slice(3))]!)));
    },
    toSettlement() {
      const due = settlesAt(I, p);
      if (c.now() < due) c.advance(due - c.now());
    },
    money(state = c.state) {
      let sum = 0n;
      for (const k of [...all, ...c.validators.map((v) => ({ address: v.validator.address }))]) {
        const a = getAccount(state, k.address);
        sum += a.balance + a.locked;
      }
      const im = getAccount(state, imbalanceAccount(ZONE));
      return sum + im.balance + im.locked;
    },
    energyOf(who) {
      let sum = 0n;
      for (const [k] of c.state.iterate(ownerUtxoPrefix(who))) {
        const u = getUtxo(c.state, k.subarray(k.length - 32))!;
        sum += u.wh;
      }
      return sum;
    },
  };
  return m;
}

export { mintedUtxoId };
