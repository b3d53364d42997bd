import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import type { Certificate, EnergyUtxo } from '../core/energy.ts';
import { formatAddress } from '../core/keys.ts';
import { encryptKey } from '../core/keystore.ts';
import { decodeCurrencyBurnBody } from '../core/tx/currency-burn.ts';
import { decodeCurrencyMintBody } from '../core/tx/currency-mint.ts';
import { decodeEnergyRetireBody } from '../core/tx/energy-retire.ts';
import { decodeEnergyTransferBody } from '../core/tx/energy-transfer.ts';
import { decodeGridIntensityBody } from '../core/tx/grid-intensity.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx } from '../core/tx.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import type { CertificateQuery, NodeApi } from '../rpc/node-api.ts';
import { createFakeNode, type FakeNode } from '../rpc/testing/fake-node.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';

/** energy list|show|transfer|retire, certificates list|show, currency mint|burn, grid-intensity post against rpc/'s fake node. */
let fake: FakeNode;
let server: RunningServer;
let rpc: string;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-energy-'));
const aliceKey = join(dir, 'alice.key');
const bob = new Uint8Array(20).fill(6);
const provenance = {
  deviceId: 'pv-1',
  kind: 'solar' as const,
  zone: 'NL',
  intervalStartMs: 1_767_225_600_000,
  intervalEndMs: 1_767_226_500_000,
  carbonIntensity: 31,
};
const utxo: EnergyUtxo = { id: new Uint8Array(32).fill(0xab), owner: bob, wh: 1500n, provenance, frozen: true, height: 12 };
const cert: Certificate = {
  id: new Uint8Array(32).fill(0xcd),
  beneficiary: bob,
  purpose: 'scope 2',
  wh: 700n,
  provenance,
  height: 14,
  time: 1_767_230_000_000,
};
const certificateQueries: CertificateQuery[] = [];
const sender: string[] = [];
const id = (b: number) => `0x${b.toString(16).padStart(2, '0').repeat(32)}`;

beforeAll(async () => {
  fake = createFakeNode();
  const api: NodeApi = {
    ...fake,
    getEnergyUtxo: (x) => (x[0] === 0xab ? utxo : undefined),
    listEnergyUtxos: () => ({ utxos: [utxo], next: undefined }),
    getCertificate: (x) => (x[0] === 0xcd ? cert : undefined),
    listCertificates: (q) => {
      certificateQueries.push(q);
      return { certificates: [{ certificate: cert, indexKey: new Uint8Array([0x11, 0x04]) }], next: new Uint8Array([7]) };
    },
  };
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api });
  rpc = `http://127.0.0.1:${server.port}`;
  sender.push('--key', aliceKey, '--rpc', rpc);
  writeFileSync(aliceKey, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastSubmitted = () => decodeTx(fake.submitted[fake.submitted.length - 1]!);

describe('joule energy', () => {
  it('transfer signs a type-22 tx with every --input and --to', async () => {
    const r = await cli([
      'energy',
      'transfer',
      '--input',
      id(1),
      '--input',
      id(2),
      '--to',
      `${formatAddress(bob)}:1000`,
      '--to',
      `${formatAddress(bob)}:500`,
      ...sender,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.energyTransfer);
    const body = decodeEnergyTransferBody(tx.body);
    expect(body.inputs.map((i) => `0x${toHex(i)}`)).toEqual([id(1), id(2)]);
    expect(body.outputs.map((o) => [formatAddress(o.owner), o.wh])).toEqual([
      [formatAddress(bob), 1000n],
      [formatAddress(bob), 500n],
    ]);
  });

  it('retire signs a type-23 tx; a bad id, Wh or missing input fails before anything is sent', async () => {
    const r = await cli([
      'energy',
      'retire',
      '--input',
      id(1),
      '--wh',
      '700',
      '--beneficiary',
      formatAddress(bob),
      '--purpose',
      'scope 2',
      ...sender,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const body = decodeEnergyRetireBody(lastSubmitted().body);
    expect(body).toMatchObject({ wh: 700n, purpose: 'scope 2' });
    const sent = fake.submitted.length;
    expect((await cli(['energy', 'retire', '--input', '0x12', '--wh', '7', '--beneficiary', formatAddress(bob), ...sender])).stderr).toMatch(
      /^error INVALID_PARAMS: input must be a 32-byte/m,
    );
    expect((await cli(['energy', 'retire', '--input', id(1), '--wh', '0', '--beneficiary', formatAddress(bob), ...sender])).stderr).toMatch(
      /^error INVALID_PARAMS: wh/m,
    );
    expect((await cli(['energy', 'retire', '--wh', '5', '--beneficiary', formatAddress(bob), ...sender])).stderr).toMatch(
      /^error INVALID_PARAMS: --input is required/m,
    );
    expect(
      (await cli(['energy', 'retire', '--input', id(1), '--wh', '5', '--beneficiary', formatAddress(bob), '--purpose', 'x'.repeat(257), ...sender])).stderr,
    ).toMatch(/^error TX_INVALID_FIELD/m);
    expect(fake.submitted.length).toBe(sent);
  });

  it('list and show print the UTXO with its state key to prove', async () => {
    const list = await cli(['energy', 'list', '--owner', formatAddress(bob), '--rpc', rpc]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('1500 Wh');
    expect(list.stdout).toContain('FROZEN');
    const show = await cli(['energy', 'show', id(0xab), '--rpc', rpc]);
    expect(show.stdout).toContain(`joule query proof utxo:${id(0xab)}`);
    expect((await cli(['energy', 'show', id(0x01), '--rpc', rpc])).stderr).toMatch(/^error NOT_FOUND/m);
  });
});

describe('joule certificates', () => {
  it('list by period (ISO times) and the next cursor; show', async () => {
    const r = await cli(['certificates', 'list', '--from', '2026-01-01T00:00:00Z', '--to', '2026-02-01T00:00:00Z', '--limit', '10', '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    expect(certificateQueries.at(-1)).toEqual({
      filter: { by: 'period', fromMs: Date.parse('2026-01-01T00:00:00Z'), toMs: Date.parse('2026-02-01T00:00:00Z') },
      limit: 10,
    });
    expect(r.stdout).toContain('more: --cursor 0x07');
    expect((await cli(['certificates', 'list', '--from', '2026-01-01T00:00:00Z', '--rpc', rpc])).stderr).toMatch(/^error INVALID_PARAMS: a period needs both/m);
    const show = await cli(['certificates', 'show', id(0xcd), '--rpc', rpc]);
    expect(show.stdout).toContain(`joule query proof certificate:${id(0xcd)}`);
  });
});

describe('joule currency and grid-intensity', () => {
  it('currency mint and burn sign types 24 and 25', async () => {
    expect((await cli(['currency', 'mint', '--to', formatAddress(bob), '--amount', '5000', ...sender])).code).toBe(0);
    expect(lastSubmitted().type).toBe(TxType.currencyMint);
    expect(decodeCurrencyMintBody(lastSubmitted().body).amount).toBe(5000n);
    expect((await cli(['currency', 'burn', '--amount', '70', ...sender])).code).toBe(0);
    expect(decodeCurrencyBurnBody(lastSubmitted().body).amount).toBe(70n);
  });

  it('grid-intensity post signs type 21 with the interval start as ms', async () => {
    const r = await cli(['grid-intensity', 'post', '--zone', 'NL', '--interval-start', '2026-01-01T00:15:00Z', '--intensity', '312', ...sender]);
    expect(r.code, r.stderr).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.gridIntensity);
    expect(tx.fee).toBe(25n);
    expect(decodeGridIntensityBody(tx.body)).toEqual({ zone: 'NL', intervalStartMs: Date.parse('2026-01-01T00:15:00Z'), carbonIntensity: 312 });
  });
});
