/**
 * A small model of the energy ledger for property tests (not used by the node): which
 * device, telemetry and energy txs are valid, what a batch counts, and what each interval
 * close mints, written from the rules in vm/README.md ("Devices", "Telemetry", "Energy
 * tokens"), not from the handlers. vm/energy/ledger.property.test.ts runs it beside a real
 * chain and compares.
 *
 * Simplifications the test keeps to: no check meters (nothing is minted frozen), no
 * storage devices (a provenance's intensity is the declared one), no governance, every
 * valid reading at least 1 s after its device's previous one with |Wh| <= 2 on devices of
 * 10 kW both ways (always within the power limits), and every impossible one far beyond.
 */
import type { DeviceKind, DeviceStatus } from '../../core/device.ts';
import type { EnergyProvenance } from '../../core/energy.ts';
import type { EnergyParams } from '../../core/params.ts';

/** A reading far beyond what a 10 kW device can move in any time a test runs: impossible energy. */
export const OUT_OF_LIMIT_WH = -100_000_000n;

export interface ModelReading {
  readonly deviceId: string;
  readonly timestampMs: number;
  readonly wh: bigint;
}

export interface Totals {
  readings: number;
  importWh: bigint;
  exportWh: bigint;
}

export interface ModelDevice {
  readonly id: string;
  readonly owner: string;
  readonly operator: string;
  readonly kind: DeviceKind;
  readonly zone: string;
  readonly carbonIntensity: number;
  status: DeviceStatus;
  /** Key numbers with the first height each signs for. */
  keys: { key: number; fromHeight: number }[];
  lastTimestampMs: number | undefined;
  /** Intervals with counted readings, not closed yet. */
  readonly open: Map<number, Totals>;
  /** The interval a missing-data watch waits for, if any. */
  watch: number | undefined;
  missed: number;
}

export interface ModelUtxo {
  readonly owner: string;
  readonly wh: bigint;
  readonly provenance: string;
}

export interface ExpectedMint {
  readonly deviceId: string;
  readonly intervalStartMs: number;
  readonly totals: Totals;
  /** Net export: what is minted (0: nothing). */
  readonly wh: bigint;
  readonly owner: string;
  readonly provenance: EnergyProvenance;
}

export type BatchVerdict =
  | { readonly kind: 'invalid'; readonly why: string }
  /** Included: the readings of every device but `skipped`'s count; `skipped` maps a device to its reason (an ErrorCode), `flagged` the impossible ones. */
  | { readonly kind: 'applied'; readonly skipped: ReadonlyMap<string, string>; readonly flagged: readonly string[] };

const STATUS_FROM: Readonly<Record<'suspend' | 'reactivate' | 'revoke', readonly DeviceStatus[]>> = {
  suspend: ['active', 'flagged-for-inspection'],
  reactivate: ['suspended', 'flagged-for-inspection'],
  revoke: ['active', 'suspended', 'flagged-for-inspection'],
};
const STATUS_TO = { suspend: 'suspended', reactivate: 'active', revoke: 'revoked' } as const;

/** One text per provenance, field by field (the model's and the chain's compare as strings). */
export function provenanceText(p: EnergyProvenance): string {
  return [p.deviceId, p.kind, p.zone, p.intervalStartMs, p.intervalEndMs, p.carbonIntensity].join('|');
}

export class LedgerModel {
  readonly devices = new Map<string, ModelDevice>();
  readonly utxos = new Map<string, ModelUtxo>();
  /** Every UTXO id ever spent (transferred or retired). */
  readonly spent = new Set<string>();
  /** Wh minted per provenance text. */
  readonly minted = new Map<string, bigint>();
  /** Every reading counted, as `device@ms`. */
  readonly counted = new Set<string>();
  readonly countedList: ModelReading[] = [];

  private readonly params: EnergyParams;
  private readonly operators: ReadonlySet<string>;

  constructor(params: EnergyParams, operators: ReadonlySet<string>) {
    this.params = params;
    this.operators = operators;
  }

  keyAt(d: ModelDevice, height: number): number | undefined {
    return d.keys.findLast((k) => k.fromHeight <= height)?.key;
  }

  canRegister(id: string, sender: string, proofValid: boolean): boolean {
    return !this.devices.has(id) && this.operators.has(sender) && proofValid;
  }

  register(d: Omit<ModelDevice, 'status' | 'keys' | 'lastTimestampMs' | 'open' | 'watch' | 'missed'>, key: number, height: number): void {
    this.devices.set(d.id, {
      ...d,
      status: 'active',
      keys: [{ key, fromHeight: height + 1 }],
      lastTimestampMs: undefined,
      open: new Map(),
      watch: undefined,
      missed: 0,
    });
  }

  canRekey(id: string, sender: string, key: number, proofValid: boolean): boolean {
    const d = this.devices.get(id);
    return d !== undefined && d.status !== 'revoked' && d.operator === sender && proofValid && !d.keys.some((k) => k.key === key);
  }

  /** A second re-key in one block replaces the first's entry: that key never signs at any height. */
  rekey(id: string, key: number, height: number): void {
    const d = this.devices.get(id)!;
    if (d.keys.at(-1)!.fromHeight === height + 1) d.keys.pop();
    d.keys.push({ key, fromHeight: height + 1 });
  }

  canSetStatus(id: string, sender: string, action: keyof typeof STATUS_TO): boolean {
    const d = this.devices.get(id);
    return d !== undefined && d.status !== 'revoked' && d.operator === sender && STATUS_FROM[action].includes(d.status);
  }

  setStatus(id: string, action: keyof typeof STATUS_TO): void {
    this.devices.get(id)!.status = STATUS_TO[action];
  }

  /**
   * A telemetry batch sent by `sender` in the block at `height`, time `blockMs`, naming keys
   * at `keyHeight`, reading i signed by key number `signer[i]`.
   */
  batch(sender: string, readings: readonly ModelReading[], signer: readonly number[], keyHeight: number, height: number, blockMs: number): BatchVerdict {
    const invalid = (why: string): BatchVerdict => ({ kind: 'invalid', why });
    const last = new Map<string, number>();
    for (const r of readings) {
      const before = last.get(r.deviceId);
      if (before !== undefined && r.timestampMs <= before) return invalid('out of order within the batch');
      last.set(r.deviceId, r.timestampMs);
    }
    if (keyHeight > height) return invalid('key height above the block');
    if (!this.operators.has(sender)) return invalid('sender holds no operator role');
    /** Devices the batch skips (not active, another operator's, key rotated), with the reason. */
    const skipped = new Map<string, string>();
    for (const id of last.keys()) {
      const d = this.devices.get(id);
      if (d === undefined) return invalid('unknown device');
      const now = this.keyAt(d, height);
      const refusal =
        d.status !== 'active'
          ? 'DEVICE_INACTIVE'
          : d.operator !== sender
            ? 'TX_UNAUTHORIZED'
            : now === undefined
              ? 'DEVICE_INACTIVE'
              : this.keyAt(d, keyHeight) !== now
                ? 'TELEMETRY_KEY_ROTATED'
                : undefined;
      if (refusal !== undefined) {
        skipped.set(id, refusal);
        continue;
      }
      const first = readings.find((r) => r.deviceId === id)!;
      if (d.lastTimestampMs !== undefined && first.timestampMs <= d.lastTimestampMs) return invalid('replayed or older than the chain');
    }
    const { settlementIntervalMs: len, settlementDelayMs: delay, maxReadingSkewMs: skew } = this.params;
    for (const r of readings) {
      if (Math.abs(r.timestampMs - blockMs) > skew) return invalid('beyond the skew');
      const start = r.timestampMs - (r.timestampMs % len);
      if (blockMs >= start + len + delay) return invalid('interval settled');
    }
    if (skipped.size === last.size) return invalid(`no device counts (${[...skipped.values()].join(', ')})`);
    if (readings.some((r, i) => signer[i] !== this.keyAt(this.devices.get(r.deviceId)!, keyHeight))) return invalid('a signature by another key');
    const flagged = [...new Set(readings.filter((r) => r.wh === OUT_OF_LIMIT_WH && !skipped.has(r.deviceId)).map((r) => r.deviceId))];
    for (const id of flagged) skipped.set(id, 'TELEMETRY_IMPOSSIBLE_ENERGY');
    return { kind: 'applied', skipped, flagged };
  }

  /** What an included batch does: flags its impossible devices, counts the other devices' readings. */
  applyBatch(readings: readonly ModelReading[], verdict: Extract<BatchVerdict, { kind: 'applied' }>): void {
    for (const id of verdict.flagged) this.devices.get(id)!.status = 'flagged-for-inspection';
    const len = this.params.settlementIntervalMs;
    for (const r of readings) {
      if (verdict.skipped.has(r.deviceId)) continue;
      const d = this.devices.get(r.deviceId)!;
      d.lastTimestampMs = r.timestampMs;
      const start = r.timestampMs - (r.timestampMs % len);
      const t = d.open.get(start) ?? { readings: 0, importWh: 0n, exportWh: 0n };
      t.readings++;
      if (r.wh > 0n) t.importWh += r.wh;
      else t.exportWh -= r.wh;
      d.open.set(start, t);
      this.counted.add(`${r.deviceId}@${r.timestampMs}`);
      this.countedList.push(r);
    }
  }

  /** Unspent, owned by `sender`, of one provenance; deduplicated ids. */
  canSpend(sender: string, inputs: readonly string[]): boolean {
    if (inputs.length === 0 || new Set(inputs).size !== inputs.length) return false;
    const us = inputs.map((id) => this.utxos.get(id));
    return us.every((u) => u !== undefined && u.owner === sender && u.provenance === us[0]!.provenance);
  }

  whOf(inputs: readonly string[]): bigint {
    return inputs.reduce((s, id) => s + (this.utxos.get(id)?.wh ?? 0n), 0n);
  }

  /** Spends `inputs` and creates `outputs` (id, owner, Wh) of their provenance. */
  spend(inputs: readonly string[], outputs: readonly { id: string; owner: string; wh: bigint }[]): string {
    const provenance = this.utxos.get(inputs[0]!)!.provenance;
    for (const id of inputs) {
      this.utxos.delete(id);
      this.spent.add(id);
    }
    for (const o of outputs) this.utxos.set(o.id, { owner: o.owner, wh: o.wh, provenance });
    return provenance;
  }

  /**
   * The interval close at the end of a block at `blockMs`: every due interval, ascending,
   * devices by id; a reported one is minted (net export) and starts a watch of the next;
   * a watched one without readings counts as missed, and at missedIntervalsFlag flags the
   * device (an inactive device is no longer watched). Returns what was minted, `mintedId`
   * naming the UTXO of (device, interval).
   */
  close(blockMs: number, mintedId: (deviceId: string, intervalStartMs: number) => string): ExpectedMint[] {
    const { settlementIntervalMs: len, settlementDelayMs: delay, missedIntervalsFlag } = this.params;
    const ids = [...this.devices.keys()].sort();
    const mints: ExpectedMint[] = [];
    for (;;) {
      const due = ids.flatMap((id) => {
        const d = this.devices.get(id)!;
        return [...d.open.keys(), ...(d.watch === undefined ? [] : [d.watch])];
      });
      if (due.length === 0) return mints;
      const I = Math.min(...due);
      if (I + len + delay > blockMs) return mints;
      for (const id of ids) {
        const d = this.devices.get(id)!;
        const totals = d.open.get(I);
        if (totals !== undefined) {
          d.open.delete(I);
          const wh = totals.exportWh > totals.importWh ? totals.exportWh - totals.importWh : 0n;
          const provenance = { deviceId: id, kind: d.kind, zone: d.zone, intervalStartMs: I, intervalEndMs: I + len, carbonIntensity: d.carbonIntensity };
          mints.push({ deviceId: id, intervalStartMs: I, totals, wh, owner: d.owner, provenance });
          if (wh > 0n) {
            const p = provenanceText(provenance);
            this.utxos.set(mintedId(id, I), { owner: d.owner, wh, provenance: p });
            this.minted.set(p, (this.minted.get(p) ?? 0n) + wh);
          }
          d.missed = 0;
          d.watch = I + len;
        } else if (d.watch === I) {
          if (d.status !== 'active') {
            d.watch = undefined;
            continue;
          }
          d.missed++;
          if (d.missed >= missedIntervalsFlag) {
            d.status = 'flagged-for-inspection';
            d.watch = undefined;
          } else d.watch = I + len;
        }
      }
    }
  }
}
