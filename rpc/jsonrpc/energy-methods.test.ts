import { describe, expect, it } from 'vitest';
import type { Certificate, EnergyUtxo } from '../../core/energy.ts';
import { formatAddress } from '../../core/keys.ts';
import type { CertificateQuery, EnergyUtxoQuery, NodeApi } from '../node-api.ts';
import { createFakeNode, rpcCaller } from '../testing/fake-node.ts';

const owner = new Uint8Array(20).fill(4);
const provenance = {
  deviceId: 'pv-1',
  kind: 'solar' as const,
  zone: 'NL',
  intervalStartMs: 1_767_225_600_000,
  intervalEndMs: 1_767_226_500_000,
  carbonIntensity: 31,
};
const utxo: EnergyUtxo = { id: new Uint8Array(32).fill(0xab), owner, wh: 1500n, provenance, frozen: false, height: 12 };
const cert: Certificate = {
  id: new Uint8Array(32).fill(0xcd),
  beneficiary: owner,
  purpose: 'scope 2',
  wh: 700n,
  provenance,
  height: 14,
  time: 1_767_230_000_000,
};

function setup() {
  const queries: { utxos: EnergyUtxoQuery[]; certificates: CertificateQuery[] } = { utxos: [], certificates: [] };
  const node: NodeApi = {
    ...createFakeNode(),
    getEnergyUtxo: (id) => (id[0] === 0xab ? utxo : undefined),
    listEnergyUtxos: (q) => {
      queries.utxos.push(q);
      return { utxos: [utxo], next: new Uint8Array([1, 2]) };
    },
    getCertificate: (id) => (id[0] === 0xcd ? cert : undefined),
    listCertificates: (q) => {
      queries.certificates.push(q);
      return { certificates: [{ certificate: cert, indexKey: new Uint8Array([0x11, 0x06, 9]) }], next: undefined };
    },
  };
  return { call: rpcCaller(node), queries };
}

describe('energy RPC methods', () => {
  it('joule_getEnergyUtxo: the UTXO with its provenance and state key, or null', async () => {
    const { call } = setup();
    expect((await call('joule_getEnergyUtxo', [`0x${'ab'.repeat(32)}`])).result).toEqual({
      id: `0x${'ab'.repeat(32)}`,
      owner: formatAddress(owner),
      wh: '1500',
      provenance,
      frozen: false,
      height: 12,
      stateKey: `0x1101${'ab'.repeat(32)}`,
    });
    expect((await call('joule_getEnergyUtxo', [`0x${'00'.repeat(32)}`])).result).toBeNull();
    expect((await call('joule_getEnergyUtxo', ['0xab'])).error.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params[0]' });
  });

  it('joule_getCertificate: the certificate with its state key', async () => {
    const { call } = setup();
    const c = (await call('joule_getCertificate', [`0x${'cd'.repeat(32)}`])).result;
    expect(c).toMatchObject({
      beneficiary: formatAddress(owner),
      purpose: 'scope 2',
      wh: '700',
      height: 14,
      time: 1_767_230_000_000,
      stateKey: `0x1103${'cd'.repeat(32)}`,
    });
  });

  it('joule_listEnergyUtxos: owner, limit and cursor reach the node; the next cursor comes back as hex', async () => {
    const { call, queries } = setup();
    const r = (await call('joule_listEnergyUtxos', [{ owner: formatAddress(owner), limit: 5, cursor: '0x0102' }])).result;
    expect(r.nextCursor).toBe('0x0102');
    expect(r.utxos).toHaveLength(1);
    expect(queries.utxos[0]).toEqual({ owner, limit: 5, after: new Uint8Array([1, 2]) });
    await call('joule_listEnergyUtxos', []);
    expect(queries.utxos[1]).toEqual({ limit: 100 });
  });

  it('joule_listCertificates: one filter at a time, each listed certificate with its index key', async () => {
    const { call, queries } = setup();
    const r = (await call('joule_listCertificates', [{ zone: 'NL' }])).result;
    expect(r).toMatchObject({ nextCursor: null, certificates: [{ purpose: 'scope 2', indexKey: '0x110609' }] });
    await call('joule_listCertificates', [{ period: { from: 1000, to: 2000 }, limit: 3 }]);
    await call('joule_listCertificates', [{ device: 'pv-1' }]);
    await call('joule_listCertificates', [{ beneficiary: formatAddress(owner) }]);
    await call('joule_listCertificates', []);
    expect(queries.certificates.map((q) => q.filter)).toEqual([
      { by: 'zone', zone: 'NL' },
      { by: 'period', fromMs: 1000, toMs: 2000 },
      { by: 'device', deviceId: 'pv-1' },
      { by: 'beneficiary', beneficiary: owner },
      { by: 'all' },
    ]);
  });

  it('refuses two filters, a bad period, an unknown field and a limit out of range, naming each', async () => {
    const { call } = setup();
    const field = async (q: unknown) => (await call('joule_listCertificates', [q])).error?.data.field;
    expect(await field({ zone: 'NL', device: 'pv-1' })).toBe('params[0].zone');
    expect(await field({ period: { from: 5, to: 5 } })).toBe('params[0].period.to');
    expect(await field({ period: { from: 5 } })).toBe('params[0].period.to');
    expect(await field({ zone: 'N L' })).toBe('params[0].zone');
    expect(await field({ colour: 'green' })).toBe('params[0].colour');
    expect(await field({ limit: 101 })).toBe('params[0].limit');
    expect((await call('joule_listEnergyUtxos', [{ owner: 'joule1nope' }])).error.data.field).toBe('params[0].owner');
  });

  it('a node without the energy ledger answers UNAVAILABLE', async () => {
    const call = rpcCaller(createFakeNode());
    for (const [m, p] of [
      ['joule_getEnergyUtxo', [`0x${'ab'.repeat(32)}`]],
      ['joule_listEnergyUtxos', []],
      ['joule_getCertificate', [`0x${'ab'.repeat(32)}`]],
      ['joule_listCertificates', []],
    ] as const) {
      expect((await call(m, p)).error.data.code, m).toBe('UNAVAILABLE');
    }
  });
});
