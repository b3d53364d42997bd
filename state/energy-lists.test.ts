import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { certificateId, mintedUtxoId, type Certificate, type EnergyProvenance } from '../core/energy.ts';
import { putCertificate, putUtxo } from './energy.ts';
import { Database } from './db.ts';
import { listCertificates, listUtxos, loadAndListCertificates, loadAndListUtxos } from './energy-lists.ts';
import { byteId, StateOverlay } from './overlay.ts';
import { commitBlock, MapState, removeTempDirs, tempDir } from './testing/store.ts';
import { WorldState } from './world-state.ts';

afterEach(removeTempDirs);

const alice = new Uint8Array(20).fill(1);
const bob = new Uint8Array(20).fill(2);
const prov = (deviceId: string, zone: string, startMs: number): EnergyProvenance => ({
  deviceId,
  kind: 'solar',
  zone,
  intervalStartMs: startMs,
  intervalEndMs: startMs + 1000,
  carbonIntensity: 10,
});

function fixture() {
  const s = new MapState();
  const o = new StateOverlay(s);
  for (let i = 0; i < 7; i++)
    putUtxo(o, {
      id: mintedUtxoId('pv', i * 1000),
      owner: i % 2 === 0 ? alice : bob,
      wh: BigInt(i + 1),
      provenance: prov('pv', 'NL', i * 1000),
      frozen: false,
      height: 1,
    });
  const certs: Certificate[] = [];
  for (let i = 0; i < 9; i++) {
    const c: Certificate = {
      id: certificateId(new Uint8Array(32).fill(i)),
      beneficiary: i < 5 ? alice : bob,
      purpose: `c${i}`,
      wh: 1n,
      provenance: prov(i % 3 === 0 ? 'wind' : 'pv', i % 2 === 0 ? 'NL' : 'DE', (i % 4) * 1000),
      height: 2,
      time: 3,
    };
    certs.push(c);
    putCertificate(o, c);
  }
  for (const c of o.changes()) s.data.set(byteId(c.key), c.value!);
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
  it("page through one owner's UTXOs, each once, in id order", () => {
    const { s } = fixture();
    const pages = all((after) => {
      const p = listUtxos(s, { owner: alice, limit: 2, after });
      return { items: p.utxos, next: p.next };
    });
    expect(pages.map((p) => p.length)).toEqual([2, 2]);
    const ids = pages.flat().map((u) => toHex(u.id));
    expect(ids).toEqual([...ids].sort());
    expect(
      pages
        .flat()
        .map((u) => u.wh)
        .sort(),
    ).toEqual([1n, 3n, 5n, 7n]);
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
    const expected = (pred: (c: Certificate) => boolean) =>
      certs
        .filter(pred)
        .map((c) => c.purpose)
        .sort();
    expect(whose({ by: 'beneficiary', beneficiary: bob })).toEqual(expected((c) => c.beneficiary === bob));
    expect(whose({ by: 'device', deviceId: 'wind' })).toEqual(expected((c) => c.provenance.deviceId === 'wind'));
    expect(whose({ by: 'zone', zone: 'DE' })).toEqual(expected((c) => c.provenance.zone === 'DE'));
    expect(whose({ by: 'period', fromMs: 1000, toMs: 3000 })).toEqual(
      expected((c) => c.provenance.intervalStartMs >= 1000 && c.provenance.intervalStartMs < 3000),
    );
    expect(whose({ by: 'all' })).toHaveLength(9);
    const one = listCertificates(s, { filter: { by: 'zone', zone: 'DE' }, limit: 1 }).certificates[0]!;
    expect(s.get(one.indexKey)).toEqual(new Uint8Array([1]));
  });

  it('a zone is no prefix of another: "N" lists nothing of "NL"', () => {
    const { s } = fixture();
    expect(listCertificates(s, { filter: { by: 'zone', zone: 'N' }, limit: 100 }).certificates).toEqual([]);
  });
});

describe('energy listings on the LevelDB state, a page loaded at a time', () => {
  it('read nothing but what loadAndList loaded (strict), and page like the in-memory listing', async () => {
    const { s, certs } = fixture();
    const db = await Database.open(tempDir('energy-lists'));
    try {
      const ws = await WorldState.open(db, { strictAccess: true });
      await commitBlock(
        db,
        ws,
        [...s.data.entries()].map(([id, value]) => ({ key: Uint8Array.from(Buffer.from(id, 'latin1')), value })),
      );
      const utxoPages: bigint[][] = [];
      let after: Uint8Array | undefined;
      do {
        const p = await loadAndListUtxos(await ws.load({}), { owner: bob, limit: 2, after });
        utxoPages.push(p.utxos.map((u) => u.wh));
        after = p.next;
      } while (after !== undefined);
      expect(utxoPages.flat().sort()).toEqual([2n, 4n, 6n]);
      const byPeriod = await loadAndListCertificates(await ws.load({}), { filter: { by: 'period', fromMs: 1000, toMs: 3000 }, limit: 100 });
      expect(byPeriod.certificates.map((c) => c.certificate.purpose).sort()).toEqual(
        certs
          .filter((c) => c.provenance.intervalStartMs >= 1000 && c.provenance.intervalStartMs < 3000)
          .map((c) => c.purpose)
          .sort(),
      );
      const all = await loadAndListCertificates(await ws.load({}), { filter: { by: 'all' }, limit: 4 });
      expect(all.certificates).toHaveLength(4);
      expect(all.next).toBeDefined();
      // Without the load, the same listing is refused: the loaded page is all it read.
      expect(() => listCertificates(ws, { filter: { by: 'all' }, limit: 4 })).toThrow();
    } finally {
      await db.close();
    }
  });
});
