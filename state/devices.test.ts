import { describe, expect, it } from 'vitest';
import { compareBytes } from '../core/bytes.ts';
import type { DeviceRecord } from '../core/device.ts';
import { blsFromSecret } from '../core/keys.ts';
import { getDevice, listDevices, MAX_DEVICE_SCAN, putDevice } from './devices.ts';
import { StateOverlay, type StateChange, type StateReader } from './overlay.ts';

/** A sorted in-memory state with prefix listing (what StateReader.iterate gives). */
class ListingState implements StateReader {
  readonly entries = new Map<string, [Uint8Array, Uint8Array]>();
  get(key: Uint8Array): Uint8Array | undefined {
    return this.entries.get(Buffer.from(key).toString('latin1'))?.[1];
  }
  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<readonly [Uint8Array, Uint8Array]> {
    const sorted = [...this.entries.values()].sort((a, b) => compareBytes(a[0], b[0]));
    for (const e of sorted) {
      const k = e[0];
      if (k.length < prefix.length || compareBytes(k.subarray(0, prefix.length), prefix) !== 0) continue;
      if (from !== undefined && compareBytes(k, from) < 0) continue;
      yield e;
    }
  }
  apply(changes: readonly StateChange[]): void {
    for (const c of changes) {
      const id = Buffer.from(c.key).toString('latin1');
      if (c.value === undefined) this.entries.delete(id);
      else this.entries.set(id, [c.key, c.value]);
    }
  }
  write(f: (o: StateOverlay) => void): void {
    const o = new StateOverlay(this);
    f(o);
    this.apply(o.changes());
  }
}

const key = blsFromSecret(new Uint8Array(32).fill(3)).publicKey;
const A = new Uint8Array(20).fill(0xa);
const B = new Uint8Array(20).fill(0xb);
const device = (id: string, operator: Uint8Array, zone: string): DeviceRecord => ({
  id,
  publicKey: key,
  owner: A,
  operator,
  kind: 'meter',
  zone,
  maxImportW: 1,
  maxExportW: 1,
  carbonIntensity: 0,
  checkMeter: undefined,
  status: 'active',
  keyHistory: [{ key, fromHeight: 1 }],
});

function fleet(): ListingState {
  const s = new ListingState();
  s.write((o) => {
    for (const [id, op, zone] of [
      ['m-3', A, 'DE'],
      ['m-1', A, 'DE-LU'],
      ['m-2', B, 'DE'],
      ['m-10', A, 'DE'],
    ] as const) {
      putDevice(o, device(id, op, zone));
    }
  });
  return s;
}
const ids = (r: { devices: DeviceRecord[]; next: string | undefined }) => ({ ids: r.devices.map((d) => d.id), next: r.next });

describe('device listing', () => {
  it('pages all devices in id (byte) order with a cursor', () => {
    const s = fleet();
    expect(ids(listDevices(s, { limit: 10 }))).toEqual({ ids: ['m-1', 'm-10', 'm-2', 'm-3'], next: undefined });
    expect(ids(listDevices(s, { limit: 2 }))).toEqual({ ids: ['m-1', 'm-10'], next: 'm-10' });
    expect(ids(listDevices(s, { limit: 2, after: 'm-10' }))).toEqual({ ids: ['m-2', 'm-3'], next: undefined });
    expect(ids(listDevices(s, { limit: 2, after: 'm-1' }))).toEqual({ ids: ['m-10', 'm-2'], next: 'm-2' });
  });

  it('lists by operator, by zone (DE is no prefix of DE-LU), and by both', () => {
    const s = fleet();
    expect(ids(listDevices(s, { limit: 10, operator: A }))).toEqual({ ids: ['m-1', 'm-10', 'm-3'], next: undefined });
    expect(ids(listDevices(s, { limit: 10, zone: 'DE' }))).toEqual({ ids: ['m-10', 'm-2', 'm-3'], next: undefined });
    expect(ids(listDevices(s, { limit: 10, zone: 'DE-LU' }))).toEqual({ ids: ['m-1'], next: undefined });
    expect(ids(listDevices(s, { limit: 10, operator: A, zone: 'DE' }))).toEqual({ ids: ['m-10', 'm-3'], next: undefined });
  });

  it('moves a device between indexes when its operator or zone changes', () => {
    const s = fleet();
    const before = getDevice(s, 'm-3')!;
    s.write((o) => putDevice(o, { ...before, operator: B, zone: 'NL' }, before));
    expect(ids(listDevices(s, { limit: 10, operator: A }))).toEqual({ ids: ['m-1', 'm-10'], next: undefined });
    expect(ids(listDevices(s, { limit: 10, operator: B }))).toEqual({ ids: ['m-2', 'm-3'], next: undefined });
    expect(ids(listDevices(s, { limit: 10, zone: 'NL' }))).toEqual({ ids: ['m-3'], next: undefined });
    expect(ids(listDevices(s, { limit: 10, zone: 'DE' }))).toEqual({ ids: ['m-10', 'm-2'], next: undefined });
  });

  it('reads at most MAX_DEVICE_SCAN index entries for an operator-and-zone page, and says where to go on', () => {
    const s = new ListingState();
    s.write((o) => {
      for (let i = 0; i < MAX_DEVICE_SCAN + 5; i++) putDevice(o, device(`d-${String(i).padStart(5, '0')}`, A, i === MAX_DEVICE_SCAN + 2 ? 'NL' : 'BE'));
    });
    const first = listDevices(s, { limit: 10, operator: A, zone: 'NL' });
    expect(first.devices).toEqual([]);
    expect(first.next).toBe(`d-${String(MAX_DEVICE_SCAN - 1).padStart(5, '0')}`);
    expect(ids(listDevices(s, { limit: 10, operator: A, zone: 'NL', after: first.next! }))).toEqual({
      ids: [`d-${String(MAX_DEVICE_SCAN + 2).padStart(5, '0')}`],
      next: undefined,
    });
  });
});
