import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { intervalOf, settlesAt } from '../../core/meter.ts';
import { StatePrefix } from '../../core/state-keys.ts';
import { buildCheckMeterResolution, decodeCheckMeterResolutionBody } from '../../core/tx/check-meter-resolution.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { decodeTelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import type { Tx } from '../../core/tx.ts';
import { StateOverlay, type StateEntry, type StateReader } from '../../state/overlay.ts';
import { queuedClosesOf, type QueuedClose } from '../../state/telemetry.ts';
import { BlockExecutor } from '../executor.ts';
import { energyChain, registerBody, testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { batchTx, reading } from '../testing/telemetry.ts';
import { checkMeterResolutionKeys, telemetryBatchKeys, type ReadSet } from './access.ts';
import { closeDueIntervals, intervalCloseHook } from './close.ts';

/** A reader that records every key read and every prefix listed. */
function recording(base: StateReader): StateReader & { keys: Set<string>; prefixes: Set<string> } {
  const keys = new Set<string>();
  const prefixes = new Set<string>();
  return {
    keys,
    prefixes,
    get: (k) => {
      keys.add(toHex(k));
      return base.get(k);
    },
    iterate: (p: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> => {
      prefixes.add(toHex(p));
      return base.iterate(p, from);
    },
  };
}

/** Every read of `seen` is declared in `declared` (a key, or under a prefix); accounts (always read) aside. */
function expectDeclared(seen: { keys: Set<string>; prefixes: Set<string> }, declared: ReadSet): void {
  const keys = new Set(declared.keys.map(toHex));
  const prefixes = declared.prefixes.map(toHex);
  const covered = (k: string) => keys.has(k) || prefixes.some((p) => k.startsWith(p));
  for (const k of seen.keys) if (!k.startsWith(StatePrefix.account.toString(16).padStart(2, '0'))) expect(covered(k), `key 0x${k}`).toBe(true);
  for (const p of seen.prefixes) expect(covered(p), `prefix 0x${p}`).toBe(true);
}

function setup() {
  const c = energyChain({ accounts: { agg: ['aggregator'], dso: ['dso'] } });
  const { agg, dso } = c.accounts as Record<string, TestKey>;
  const devices: [string, Parameters<typeof registerBody>[3]][] = [
    ['cm', { kind: 'meter' }],
    ['bat', { kind: 'battery', checkMeter: 'cm' }],
    ['pv', {}],
  ];
  c.block(
    ...devices.map(([id, more], i) =>
      buildDeviceRegister({
        ...c.sender(agg!, i),
        device: registerBody(id, testDeviceKey(i + 1), agg!.address, { maxExportW: 1_000_000, maxImportW: 1_000_000, ...more }),
      }),
    ),
  );
  const keyOf = (id: string) => testDeviceKey(devices.findIndex(([d]) => d === id) + 1);
  return { c, agg: agg!, dso: dso!, keyOf };
}

function applyOne(c: ReturnType<typeof setup>['c'], tx: Tx): { keys: Set<string>; prefixes: Set<string> } {
  const seen = recording(c.state);
  const ex = new BlockExecutor(seen, c.ctx(), { endBlockHooks: [] });
  expect(ex.tryApply(tx)).toMatchObject({ success: true });
  return seen;
}

describe('telemetry access lists: everything read is named beforehand', () => {
  it("a telemetry batch reads only its devices' records and cursors", () => {
    const { c, agg, keyOf } = setup();
    const t = c.now();
    c.block(batchTx(c, agg, [reading('pv', t - 500, -1)], keyOf));
    const tx = batchTx(c, agg, [reading('pv', c.now() - 300, -5), reading('bat', c.now() - 200, 4), reading('cm', c.now() - 100, 3)], keyOf);
    expectDeclared(applyOne(c, tx), { keys: telemetryBatchKeys(decodeTelemetryBatchBody(tx.body)), prefixes: [] });
  });

  it('the close reads what its queued entries name, and a resolution what its body names', () => {
    const { c, agg, dso, keyOf } = setup();
    const p = c.ctx().params;
    c.advance(intervalOf(BigInt(c.now()) * 1000n, p.settlementIntervalMs) + p.settlementIntervalMs + 100 - c.now());
    const t = c.now();
    const I = intervalOf(BigInt(t) * 1000n, p.settlementIntervalMs);
    // bat (a battery, checked by cm, disagreeing: frozen, storage carbon read), pv (plain), cm (a check meter).
    c.block(batchTx(c, agg, [reading('bat', t, -100), reading('cm', t, -200), reading('pv', t, -7)], keyOf));
    // Nothing due yet: the hook loads the queue's head only, not a slice of it.
    c.advance(settlesAt(I, p) - 1 - c.now());
    expect(intervalCloseHook.dependent!(c.ctx(), c.state).ranges ?? []).toEqual([]);
    c.advance(1);
    expect(intervalCloseHook.dependent!(c.ctx(), c.state).ranges?.map((r) => r.limit)).toEqual([intervalCloseHook.workPerBlock + 1]);
    const queued: QueuedClose[] = [...queuedClosesOf(c.state, I)];
    expect(queued.map((q) => q.deviceId)).toEqual(['bat', 'cm', 'pv']);
    // The hook's own declaration: the queue's head, its slice when the head is due, then what its due entries name.
    const declared = (at: StateReader): ReadSet => {
      const stages = [intervalCloseHook.dependent!(c.ctx(), at), intervalCloseHook.dependentNext!(c.ctx(), at)];
      return {
        keys: stages.flatMap((d) => d.keys),
        prefixes: [
          ...stages.flatMap((d) => [...d.prefixes, ...(d.ranges ?? []).map((r) => r.prefix)]),
          ...intervalCloseHook.ranges!(c.ctx()).map((r) => r.prefix),
        ],
      };
    };
    const seen = recording(c.state);
    closeDueIntervals(new StateOverlay(seen), c.ctx(), { remaining: 100, take: () => true });
    expectDeclared(seen, declared(c.state));
    expect(declared(c.state).keys.length).toBeGreaterThan(3 * 4);
    c.block();

    // The watches of I + 1 (no readings): their reads are named too.
    c.advance(settlesAt(I + p.settlementIntervalMs, p) - c.now());
    const watches = [...queuedClosesOf(c.state, I + p.settlementIntervalMs)];
    expect(watches.every((q) => !q.item.reported)).toBe(true);
    const watched = recording(c.state);
    closeDueIntervals(new StateOverlay(watched), c.ctx(), { remaining: 100, take: () => true });
    expectDeclared(watched, declared(c.state));

    const resolve = buildCheckMeterResolution({ ...c.sender(dso), deviceId: 'bat', intervalStartMs: I, resolution: 'device' });
    expectDeclared(applyOne(c, resolve), { keys: checkMeterResolutionKeys(decodeCheckMeterResolutionBody(resolve.body)), prefixes: [] });
  });
});
