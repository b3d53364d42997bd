import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { mintedUtxoId } from '../../core/energy.ts';
import { ErrorCode } from '../../core/errors.ts';
import { errorOf } from '../../core/testing/errors.ts';
import { getStorageCarbon, getUtxo, ownerUtxoPrefix, putGridIntensity, putStorageCarbon } from '../../state/energy.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { MemoryState } from '../testing/fixtures.ts';
import { frozenInterval, mintMeteredInterval, mintPrefixes, mintReadKeys, unfreezeInterval, type MeteredInterval } from './mint.ts';
import { UNKNOWN_GRID_INTENSITY } from './storage-carbon.ts';

const owner = new Uint8Array(20).fill(5);
const oracle = new Uint8Array(20).fill(6);

function device(id: string, more: Partial<DeviceRecord> = {}): DeviceRecord {
  const key = new Uint8Array(48).fill(1);
  return {
    id,
    publicKey: key,
    owner,
    operator: new Uint8Array(20).fill(2),
    kind: 'solar',
    zone: 'NL',
    maxImportW: 10_000,
    maxExportW: 10_000,
    carbonIntensity: 40,
    checkMeter: undefined,
    status: 'active',
    keyHistory: [{ key, fromHeight: 1 }],
    ...more,
  };
}

const T = 1_700_000_010_000;
const interval = (deviceId: string, k: number, importWh: bigint, exportWh: bigint, frozen = false): MeteredInterval => ({
  deviceId,
  intervalStartMs: T + k * 30_000,
  intervalEndMs: T + (k + 1) * 30_000,
  importWh,
  exportWh,
  frozen,
});

const world = () => new StateOverlay(new MemoryState());

describe('mintMeteredInterval', () => {
  it("mints the export as one UTXO to the owner with the device's provenance and declared intensity", () => {
    const w = world();
    const d = device('pv-1');
    const id = mintMeteredInterval(w, d, interval('pv-1', 0, 3n, 500n), 7)!;
    expect(id).toEqual(mintedUtxoId('pv-1', T));
    expect(getUtxo(w, id)).toEqual({
      id,
      owner,
      wh: 500n,
      frozen: false,
      height: 7,
      provenance: { deviceId: 'pv-1', kind: 'solar', zone: 'NL', intervalStartMs: T, intervalEndMs: T + 30_000, carbonIntensity: 40 },
    });
    expect(w.get(new Uint8Array([...ownerUtxoPrefix(owner), ...id]))).toBeDefined();
  });

  it('mints nothing for an interval without export, and writes nothing for a non-storage device', () => {
    const w = world();
    expect(mintMeteredInterval(w, device('pv-1'), interval('pv-1', 0, 800n, 0n), 7)).toBeUndefined();
    expect(w.size).toBe(0);
  });

  it('mints a frozen interval frozen, even at 0 Wh, and resolution sets its Wh and unfreezes it', () => {
    const w = world();
    const d = device('pv-1');
    const id = mintMeteredInterval(w, d, interval('pv-1', 0, 0n, 0n, true), 7)!;
    expect(getUtxo(w, id)).toMatchObject({ wh: 0n, frozen: true });
    expect(frozenInterval(w, 'pv-1', T)?.id).toEqual(id);
    expect(unfreezeInterval(w, 'pv-1', T, 480n)).toMatchObject({ wh: 480n, frozen: false });
    expect(getUtxo(w, id)).toMatchObject({ wh: 480n, frozen: false, height: 7 });
    expect(frozenInterval(w, 'pv-1', T)).toBeUndefined();
  });

  it('resolution at 0 Wh removes the frozen UTXO; an interval that is not frozen cannot be resolved', () => {
    const w = world();
    const id = mintMeteredInterval(w, device('pv-1'), interval('pv-1', 0, 0n, 90n, true), 7)!;
    expect(unfreezeInterval(w, 'pv-1', T, 0n)).toBeUndefined();
    expect(getUtxo(w, id)).toBeUndefined();
    expect(errorOf(() => unfreezeInterval(w, 'pv-1', T, 5n))).toMatchObject({ code: ErrorCode.ENERGY_UTXO_UNKNOWN, field: 'tx.body.intervalStartMs' });
    mintMeteredInterval(w, device('pv-1'), interval('pv-1', 1, 0n, 90n), 8);
    expect(errorOf(() => unfreezeInterval(w, 'pv-1', T + 30_000, 5n))).toMatchObject({ code: ErrorCode.ENERGY_UTXO_UNKNOWN });
  });

  it('refuses intervals no close can produce', () => {
    const w = world();
    const d = device('pv-1');
    expect(errorOf(() => mintMeteredInterval(w, d, interval('pv-2', 0, 0n, 1n), 1))).toMatchObject({ field: 'interval.deviceId' });
    expect(errorOf(() => mintMeteredInterval(w, d, { ...interval('pv-1', 0, 0n, 1n), intervalEndMs: T }, 1))).toMatchObject({
      field: 'interval.intervalEndMs',
    });
    expect(errorOf(() => mintMeteredInterval(w, d, interval('pv-1', 0, -1n, 1n), 1))).toMatchObject({ field: 'interval.importWh' });
    expect(w.size).toBe(0);
  });

  it('is deterministic: the same calls on two worlds write the same bytes', () => {
    const run = () => {
      const w = world();
      putGridIntensity(w, 'NL', { intervalStartMs: T, carbonIntensity: 321, oracle });
      mintMeteredInterval(w, device('bat-1', { kind: 'battery', carbonIntensity: 0 }), interval('bat-1', 0, 1000n, 333n), 4);
      mintMeteredInterval(w, device('pv-1'), interval('pv-1', 0, 0n, 77n), 4);
      return w.changes().map((c) => `${toHex(c.key)}=${c.value === undefined ? '-' : toHex(c.value)}`);
    };
    expect(run()).toEqual(run());
  });
});

describe('storage carbon through minting', () => {
  const battery = device('bat-1', { kind: 'battery', carbonIntensity: 0 });

  it("a battery's export carries the grid intensity that charged it, not its declared 0", () => {
    const w = world();
    putGridIntensity(w, 'NL', { intervalStartMs: T, carbonIntensity: 400, oracle });
    putGridIntensity(w, 'NL', { intervalStartMs: T + 30_000, carbonIntensity: 100, oracle });
    mintMeteredInterval(w, battery, interval('bat-1', 0, 1000n, 0n), 1); // 1000 Wh at 400
    mintMeteredInterval(w, battery, interval('bat-1', 1, 3000n, 0n), 2); // 3000 Wh at 100
    expect(getStorageCarbon(w, 'bat-1')).toEqual({ storedWh: 4000n, carbonMg: 700_000n });
    const id = mintMeteredInterval(w, battery, interval('bat-1', 2, 0n, 2000n), 3)!;
    // weighted: (400*1000 + 100*3000) / 4000 = 175 g/kWh
    expect(getUtxo(w, id)!.provenance.carbonIntensity).toBe(175);
    expect(getStorageCarbon(w, 'bat-1')).toEqual({ storedWh: 2000n, carbonMg: 350_000n });
  });

  it('rounds up: exported energy never looks cleaner than what charged it', () => {
    const w = world();
    putGridIntensity(w, 'NL', { intervalStartMs: T, carbonIntensity: 1, oracle });
    putStorageCarbon(w, 'bat-1', { storedWh: 3n, carbonMg: 2n }); // 0.67 g/kWh on average
    const id = mintMeteredInterval(w, battery, interval('bat-1', 0, 0n, 1n), 1)!;
    expect(getUtxo(w, id)!.provenance.carbonIntensity).toBe(1); // ceil(ceil(2*1/3) / 1)
    expect(getStorageCarbon(w, 'bat-1')).toEqual({ storedWh: 2n, carbonMg: 1n });
  });

  it("export beyond the pool counts at the zone's grid intensity of the exporting interval", () => {
    const w = world();
    putGridIntensity(w, 'NL', { intervalStartMs: T, carbonIntensity: 200, oracle });
    putGridIntensity(w, 'NL', { intervalStartMs: T + 30_000, carbonIntensity: 600, oracle });
    mintMeteredInterval(w, battery, interval('bat-1', 0, 100n, 0n), 1);
    const id = mintMeteredInterval(w, battery, interval('bat-1', 1, 0n, 300n), 2)!;
    // 100 Wh from the pool at 200 + 200 Wh uncovered at 600 = 140,000 mg / 300 Wh = 466.67 -> 467
    expect(getUtxo(w, id)!.provenance.carbonIntensity).toBe(467);
    expect(getStorageCarbon(w, 'bat-1')).toEqual({ storedWh: 0n, carbonMg: 0n });
  });

  it("an interval nobody posted falls back to the zone's latest post, and a zone never posted to the worst case", () => {
    const w = world();
    putGridIntensity(w, 'NL', { intervalStartMs: T - 60_000, carbonIntensity: 250, oracle });
    const nl = mintMeteredInterval(w, battery, interval('bat-1', 0, 10n, 10n), 1)!;
    expect(getUtxo(w, nl)!.provenance.carbonIntensity).toBe(250);
    const de = device('bat-2', { kind: 'ev-charger', zone: 'DE', carbonIntensity: 0 });
    const id = mintMeteredInterval(w, de, interval('bat-2', 0, 10n, 10n), 1)!;
    expect(getUtxo(w, id)!.provenance.carbonIntensity).toBe(UNKNOWN_GRID_INTENSITY);
  });

  it('within one interval the imports enter the pool before the export leaves it', () => {
    const w = world();
    putGridIntensity(w, 'NL', { intervalStartMs: T, carbonIntensity: 300, oracle });
    const id = mintMeteredInterval(w, battery, interval('bat-1', 0, 1000n, 400n), 1)!;
    expect(getUtxo(w, id)!.provenance.carbonIntensity).toBe(300);
    expect(getStorageCarbon(w, 'bat-1')).toEqual({ storedWh: 600n, carbonMg: 180_000n });
  });

  it('solar, wind and the rest keep their declared intensity and have no pool', () => {
    const w = world();
    putGridIntensity(w, 'NL', { intervalStartMs: T, carbonIntensity: 900, oracle });
    const id = mintMeteredInterval(w, device('w-1', { kind: 'wind', carbonIntensity: 11 }), interval('w-1', 0, 50n, 70n), 1)!;
    expect(getUtxo(w, id)!.provenance.carbonIntensity).toBe(11);
    expect(getStorageCarbon(w, 'w-1')).toEqual({ storedWh: 0n, carbonMg: 0n });
  });

  it('mintReadKeys and mintPrefixes name every key a mint reads', () => {
    const w = world();
    putGridIntensity(w, 'NL', { intervalStartMs: T, carbonIntensity: 300, oracle });
    const base = new MemoryState();
    base.apply(w.changes());
    const seen: string[] = [];
    const spy = {
      get: (k: Uint8Array) => {
        seen.push(toHex(k));
        return base.get(k);
      },
      iterate: base.iterate.bind(base),
    };
    mintMeteredInterval(new StateOverlay(spy), battery, interval('bat-1', 0, 100n, 50n), 1);
    const declared = mintReadKeys(battery, T).map(toHex);
    for (const k of seen) expect(declared).toContain(k);
    expect(seen.length).toBeGreaterThan(0);
    for (const k of seen)
      expect(
        mintPrefixes(T).some((p) => k.startsWith(toHex(p))),
        k,
      ).toBe(true);
    seen.length = 0;
    mintMeteredInterval(new StateOverlay(spy), device('pv-9'), interval('pv-9', 0, 100n, 50n), 1);
    expect(seen).toEqual([]);
  });
});
