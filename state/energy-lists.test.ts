import { describe, expect, it } from 'vitest';
import { compareBytes, toHex } from '../core/bytes.ts';
import { certificateId, mintedUtxoId, type Certificate, type EnergyProvenance } from '../core/energy.ts';
import { putCertificate, putUtxo } from './energy.ts';
import { listCertificates, listUtxos, type PrefixReader } from './energy-lists.ts';
import { StateOverlay, type StateChange } from './overlay.ts';

/** A sorted in-memory state with prefix iteration (what a listing needs). */
class Sorted implements PrefixReader {
  private readonly data = new Map<string, [Uint8Array, Uint8Array]>();
  get(key: Uint8Array) {
    return this.data.get(toHex(key))?.[1];
  }
  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<readonly [Uint8Array, Uint8Array]> {
    const entries = [...this.data.values()].sort((a, b) => compareBytes(a[0], b[0]));
    for (const e of entries) if (toHex(e[0]).startsWith(toHex(prefix)) && (from === undefined || compareBytes(e[0], from) >= 0)) yield e;
  }
  apply(changes: readonly StateChange[]) {
    for (const c of changes) {
      if (c.value === undefined) this.data.delete(toHex(c.key));
      else this.data.set(toHex(c.key), [c.key, c.value]);
    }
  }
}

const alice = new Uint8Array(20).fill(1);
const bob = new Uint8Array(20).fill(2);
const prov = (deviceId: string, zone: string, startMs: number): EnergyProvenance => ({ deviceId, kind: 'solar', zone, intervalStartMs: startMs, intervalEndMs: startMs + 1000, carbonIntensity: 10 });

function fixture() {
  const s = new Sorted();
  const o = new StateOverlay(s);
  for (let i = 0; i < 7; i++) putUtxo(o, { id: mintedUtxoId('pv', i * 1000), owner: i % 2 === 0 ? alice : bob, wh: BigInt(i + 1), provenance: prov('pv', 'NL', i * 1000), frozen: false, height: 1 });
  const certs: Certificate[] = [];
  for (let i = 0; i < 9; i++) {
    const c: Certificate = { id: certificateId(new Uint8Array(32).fill(i)), beneficiary: i < 5 ? alice : bob, purpose: `c${i}`, wh: 1n, provenance: prov(i % 3 === 0 ? 'wind' : 'pv', i % 2 === 0 ? 'NL' : 'DE', (i % 4) * 1000), height: 2, time: 3 };
    certs.push(c);
    putCertificate(o, c);
  }
  s.apply(o.changes());
  return { s, certs };
}

function all<T>(next: (after: Uint8Array | undefined) => { items: readonly T[]; next: Uint8Array | undefined }): T[][] {
  const pages: T[][] = [];
  let after: Uint8Array | undefined;
  do {
    const p = next(after);
    pages.push([...p.items]);
    after = p.next;
  } while (after !== undefined);
  return pages;
}

describe('energy listings', () => {
  it('page through one owner\'s UTXOs, each once, in id order', () => {
    const { s } = fixture();
    const pages = all((after) => {
      const p = listUtxos(s, { owner: alice, limit: 2, after });
      return { items: p.utxos, next: p.next };
    });
    expect(pages.map((p) => p.length)).toEqual([2, 2]);
    const ids = pages.flat().map((u) => toHex(u.id));
    expect(ids).toEqual([...ids].sort());
    expect(pages.flat().map((u) => u.wh).sort()).toEqual([1n, 3n, 5n, 7n]);
    expect(listUtxos(s, { limit: 100 }).utxos).toHaveLength(7);
  });

  it('list certificates by beneficiary, device, zone and period, with the index key that listed each', () => {
    const { s, certs } = fixture();
    const whose = (f: Parameters<typeof listCertificates>[1]['filter']) =>
      all((after) => {
        const p = listCertificates(s, { filter: f, limit: 2, after });
        return { items: p.certificates, next: p.next };
      })
        .flat()
        .map((c) => c.certificate.purpose)
        .sort();
    const expected = (pred: (c: Certificate) => boolean) => certs.filter(pred).map((c) => c.purpose).sort();
    expect(whose({ by: 'beneficiary', beneficiary: bob })).toEqual(expected((c) => c.beneficiary === bob));
    expect(whose({ by: 'device', deviceId: 'wind' })).toEqual(expected((c) => c.provenance.deviceId === 'wind'));
    expect(whose({ by: 'zone', zone: 'DE' })).toEqual(expected((c) => c.provenance.zone === 'DE'));
    expect(whose({ by: 'period', fromMs: 1000, toMs: 3000 })).toEqual(expected((c) => c.provenance.intervalStartMs >= 1000 && c.provenance.intervalStartMs < 3000));
    expect(whose({ by: 'all' })).toHaveLength(9);
    const one = listCertificates(s, { filter: { by: 'zone', zone: 'DE' }, limit: 1 }).certificates[0]!;
    expect(s.get(one.indexKey)).toEqual(new Uint8Array([1]));
  });

  it('a zone is no prefix of another: "N" lists nothing of "NL"', () => {
    const { s } = fixture();
    expect(listCertificates(s, { filter: { by: 'zone', zone: 'N' }, limit: 100 }).certificates).toEqual([]);
  });
});
