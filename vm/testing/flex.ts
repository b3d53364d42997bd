/**
 * A small fleet for tests of flexibility and priced commands (not used by the node): an
 * energy chain (vm/testing/energy-chain.ts) with an aggregator operating two 1 MW
 * batteries (bat-0, bat-1) owned by `owner`, a dso operating two meters of its own (dso-0,
 * dso-1, owned by `owner` too), and helpers to meter whole intervals and move the clock.
 */
import type { BlsKeyPair } from '../../core/keys.ts';
import type { FlexBidBody } from '../../core/tx/flex-bid.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildFlexActivate } from '../../core/tx/flex-activate.ts';
import { buildFlexBid } from '../../core/tx/flex-bid.ts';
import { buildFlexConfirm } from '../../core/tx/flex-confirm.ts';
import type { Tx } from '../../core/tx.ts';
import { getAccount } from '../../state/accounts.ts';
import type { StateReader } from '../../state/overlay.ts';
import { energyChain, registerBody, testDeviceKey, type EnergyChain } from './energy-chain.ts';
import type { TestKey } from './fixtures.ts';
import { batchTx, reading } from './telemetry.ts';

export interface TestFleet {
  readonly c: EnergyChain;
  readonly agg: TestKey;
  readonly dso: TestKey;
  readonly owner: TestKey;
  /** The settlement interval, ms. */
  readonly iv: number;
  /** An interval start 6 intervals ahead of the chain's clock: the first activated interval of the tests; A - 4 iv .. A - iv are its baseline. */
  readonly A: number;
  bid(more?: Partial<FlexBidBody>): Tx;
  activate(bidId: Uint8Array, powerKw: number, startMs: number, endMs: number, who?: TestKey): Tx;
  confirm(activationId: Uint8Array, who?: TestKey): Tx;
  /** Moves the clock into interval `startMs` (1 s in) if it is not there yet, and meters each device's net energy (+ import, - export) in one block. */
  meter(startMs: number, entries: readonly [string, bigint][]): void;
  /** Moves the clock to `ms` if it is earlier. */
  to(ms: number): void;
  /** Balance plus locked of every account of the chain. */
  money(state?: StateReader): bigint;
}

export function testFleet(): TestFleet {
  const c = energyChain({ accounts: { agg: ['aggregator'], dso: ['dso'], owner: [] } });
  const agg = c.accounts.agg!;
  const dso = c.accounts.dso!;
  const owner = c.accounts.owner!;
  const keys = new Map<string, BlsKeyPair>();
  const devices: [string, TestKey][] = [
    ['bat-0', agg],
    ['bat-1', agg],
    ['dso-0', dso],
    ['dso-1', dso],
  ];
  const txs = devices.map(([id, operator], i) => {
    const key = testDeviceKey(200 + i);
    keys.set(id, key);
    const offset = devices.slice(0, i).filter(([, o]) => o === operator).length;
    return buildDeviceRegister({
      ...c.sender(operator, offset),
      device: registerBody(id, key, owner.address, { kind: 'battery', maxImportW: 1_000_000, maxExportW: 1_000_000 }),
    });
  });
  c.block(...txs);
  const iv = c.ctx().params.settlementIntervalMs;
  const A = (Math.floor(c.now() / iv) + 6) * iv;
  const all = [agg, dso, owner];
  const f: TestFleet = {
    c,
    agg,
    dso,
    owner,
    iv,
    A,
    bid: (more = {}) =>
      buildFlexBid({
        ...c.sender(agg),
        deviceIds: ['bat-0', 'bat-1'],
        capacityKw: 1000,
        rampUpKwPerMin: 500,
        rampDownKwPerMin: 500,
        minSocPercent: 20,
        maxSocPercent: 90,
        pricePerMwh: 100_000_000n,
        availableFromMs: A - iv,
        availableUntilMs: A + 10 * iv,
        ...more,
      }),
    activate: (bidId, powerKw, startMs, endMs, who = dso) => buildFlexActivate({ ...c.sender(who), bidId, powerKw, startMs, endMs }),
    confirm: (activationId, who = agg) => buildFlexConfirm({ ...c.sender(who), activationId }),
    meter(startMs, entries) {
      f.to(startMs + 1000);
      const t = c.now();
      const byOperator = new Map<TestKey, ReturnType<typeof reading>[]>();
      for (const [id, wh] of entries) {
        const op = devices.find(([d]) => d === id)![1];
        byOperator.set(op, [...(byOperator.get(op) ?? []), reading(id, t, wh)]);
      }
      c.block(...[...byOperator].map(([op, readings]) => batchTx(c, op, readings, (id) => keys.get(id)!)));
    },
    to(ms) {
      if (c.now() < ms) c.advance(ms - c.now());
    },
    money(state = c.state) {
      let sum = 0n;
      for (const k of [...all.map((a) => a.address), ...c.validators.map((v) => v.validator.address)]) {
        const a = getAccount(state, k);
        sum += a.balance + a.locked;
      }
      return sum;
    },
  };
  return f;
}
