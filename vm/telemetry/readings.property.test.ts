import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JouleError } from '../../core/errors.ts';
import type { BlsKeyPair } from '../../core/keys.ts';
import type { Reading } from '../../core/telemetry.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { listIntervalTotals } from '../../state/telemetry.ts';
import { energyChain, registerBody, testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { batchTx, reading } from '../testing/telemetry.ts';

const DEVICES = ['a', 'b'];

/** A batch entry: a fresh reading at the block time plus an offset, or a replay of an earlier counted one. */
const entry = fc.oneof(
  fc.record({
    kind: fc.constant('fresh' as const),
    device: fc.integer({ min: 0, max: 1 }),
    offsetMs: fc.integer({ min: -3000, max: 3000 }),
    wh: fc.integer({ min: -2, max: 1 }),
  }),
  fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }),
);
const step = fc.record({ advanceMs: fc.integer({ min: 0, max: 20_000 }), entries: fc.array(entry, { minLength: 1, maxLength: 5 }) });

describe('telemetry: no reading counts twice (property)', () => {
  it('over random batches with replays, reorderings and duplicates: counted readings are unique, per device increasing, and the totals are their sum', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        const c = energyChain({ accounts: { agg: ['aggregator'] } });
        const agg = c.accounts.agg as TestKey;
        const keys = new Map<string, BlsKeyPair>(DEVICES.map((id, i) => [id, testDeviceKey(i + 1)]));
        c.block(
          ...DEVICES.map((id, i) =>
            buildDeviceRegister({
              ...c.sender(agg, i),
              device: registerBody(id, keys.get(id)!, agg.address, { maxExportW: 1_000_000, maxImportW: 1_000_000 }),
            }),
          ),
        );
        const counted: Reading[] = [];
        const seen = new Set<string>();
        for (const s of steps) {
          c.advance(s.advanceMs);
          const now = c.now();
          const readings = s.entries.flatMap((e): Reading[] => {
            if (e.kind === 'fresh') return [reading(DEVICES[e.device]!, now + e.offsetMs, e.wh)];
            return counted.length === 0 ? [] : [counted[e.pick % counted.length]!];
          });
          if (readings.length === 0) continue;
          const tx = batchTx(c, agg, readings, (id) => keys.get(id)!);
          try {
            c.check(tx);
          } catch (e) {
            if (!(e instanceof JouleError)) throw e;
            continue;
          }
          const r = c.block(tx);
          if (!r.receipts[0]!.success) continue;
          for (const x of readings) {
            const id = `${x.deviceId}@${x.timestampUs}`;
            expect(seen.has(id)).toBe(false);
            seen.add(id);
            counted.push(x);
          }
        }
        for (const d of DEVICES) {
          const mine = counted.filter((x) => x.deviceId === d);
          for (let i = 1; i < mine.length; i++) expect(mine[i]!.timestampUs > mine[i - 1]!.timestampUs).toBe(true);
          const totals = listIntervalTotals(c.state, d, 0, Number.MAX_SAFE_INTEGER, 1000);
          const net = totals.reduce((sum, t) => sum + t.importWh - t.exportWh, 0n);
          expect(net).toBe(mine.reduce((sum, x) => sum + x.netEnergyWh, 0n));
          expect(totals.reduce((n, t) => n + t.readings, 0)).toBe(mine.length);
        }
      }),
      { numRuns: 25 },
    );
  });
});
