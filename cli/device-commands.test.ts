import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../core/bytes.ts';
import type { DeviceRecord } from '../core/device.ts';
import { blsFromSecret, formatAddress } from '../core/keys.ts';
import { encryptKey } from '../core/keystore.ts';
import { deviceProofOfPossessionSet } from '../core/pop.ts';
import { verifySignatureSet } from '../core/signature-sets.ts';
import { decodeDeviceRegisterBody } from '../core/tx/device-register.ts';
import { decodeDeviceRekeyBody } from '../core/tx/device-rekey.ts';
import { decodeDeviceStatusBody } from '../core/tx/device-status.ts';
import { decodeDeviceUpdateBody } from '../core/tx/device-update.ts';
import { decodeRoleVoteBody } from '../core/tx/role-vote.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx } from '../core/tx.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import { createFakeNode, type FakeNode } from '../rpc/testing/fake-node.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';

/** keys pop, device register|update|suspend|revoke|reactivate|rekey, role vote and query device|devices|roles against rpc/'s fake node. */
let fake: FakeNode;
let server: RunningServer;
let rpc: string;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-devices-'));
const aliceKey = join(dir, 'alice.key');
const deviceSecret = new Uint8Array(32).fill(31);
const deviceKeyFile = join(dir, 'meter.key');
const owner = formatAddress(new Uint8Array(20).fill(6));

beforeAll(async () => {
  fake = createFakeNode();
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api: fake });
  rpc = `http://127.0.0.1:${server.port}`;
  sender.push('--key', aliceKey, '--rpc', rpc);
  writeFileSync(aliceKey, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
  writeFileSync(deviceKeyFile, JSON.stringify(await encryptKey({ type: 'bls', secret: deviceSecret, insecure: true })));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastSubmitted = () => decodeTx(fake.submitted[fake.submitted.length - 1]!);
const sender: string[] = [];
const registerArgs = ['--owner', owner, '--kind', 'battery', '--zone', 'NL', '--max-import-w', '11000', '--max-export-w', '10000', '--carbon-intensity', '0'];

describe('joule keys generate --type bls / keys pop', () => {
  it('writes a BLS key file and prints its public key and device proof of possession for the chain', async () => {
    const file = join(dir, 'new-device.key');
    const gen = await cli(['keys', 'generate', '--type', 'bls', '--out', file, '--insecure', '--json']);
    expect(gen.code, gen.stderr).toBe(0);
    const pub = JSON.parse(gen.stdout).publicKey as string;
    const r = await cli(['keys', 'pop', file, '--chain-id', 'joule-test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.publicKey).toBe(pub);
    expect(verifySignatureSet(deviceProofOfPossessionSet('joule-test', fromHex(out.publicKey), fromHex(out.proofOfPossession)))).toBe(true);
    // The chain id from the node when not given.
    const fromNode = JSON.parse((await cli(['keys', 'pop', file, '--rpc', rpc, '--json'])).stdout);
    expect(fromNode).toEqual(out);
    expect((await cli(['keys', 'pop', aliceKey, '--chain-id', 'joule-test'])).stderr).toMatch(/^error KEY_WRONG_TYPE/m);
  });
});

describe('joule device', () => {
  it("register --device-key signs a type-16 tx with the proof made for the node's chain", async () => {
    const r = await cli(['device', 'register', 'bat-1', '--device-key', deviceKeyFile, ...registerArgs, '--check-meter', 'meter-9', ...sender, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.deviceRegister);
    expect(tx.fee).toBe(25n);
    const body = decodeDeviceRegisterBody(tx.body);
    expect(body).toMatchObject({ id: 'bat-1', kind: 'battery', zone: 'NL', maxImportW: 11_000, maxExportW: 10_000, carbonIntensity: 0, checkMeter: 'meter-9' });
    expect(formatAddress(body.owner)).toBe(owner);
    expect(toHex(body.publicKey)).toBe(toHex(blsFromSecret(deviceSecret).publicKey));
    expect(verifySignatureSet(deviceProofOfPossessionSet('joule-test', body.publicKey, body.proofOfPossession))).toBe(true);
  });

  it('register --public-key --pop (from keys pop); a proof for another chain is refused before anything is sent', async () => {
    const other = JSON.parse((await cli(['keys', 'pop', deviceKeyFile, '--chain-id', 'joule-other', '--json'])).stdout);
    const before = fake.submitted.length;
    const bad = await cli(['device', 'register', 'bat-2', '--public-key', other.publicKey, '--pop', other.proofOfPossession, ...registerArgs, ...sender]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error TX_BAD_SIGNATURE: .*joule-test/m);
    expect(fake.submitted.length).toBe(before);
    const good = JSON.parse((await cli(['keys', 'pop', deviceKeyFile, '--chain-id', 'joule-test', '--json'])).stdout);
    const r = await cli(['device', 'register', 'bat-2', '--public-key', good.publicKey, '--pop', good.proofOfPossession, ...registerArgs, ...sender]);
    expect(r.code, r.stderr).toBe(0);
    expect(decodeDeviceRegisterBody(lastSubmitted().body).id).toBe('bat-2');
  });

  it('register refuses bad options by name', async () => {
    const bad = async (args: string[]) => (await cli(['device', 'register', ...args, ...sender])).stderr;
    expect(await bad(['bat 3', '--device-key', deviceKeyFile, ...registerArgs])).toMatch(/^error INVALID_PARAMS: id must be a device id/m);
    expect(await bad(['bat-3', '--device-key', deviceKeyFile, ...registerArgs.map((a) => (a === 'battery' ? 'reactor' : a))])).toMatch(/--kind must be one of/);
    expect(await bad(['bat-3', '--device-key', deviceKeyFile, ...registerArgs.map((a) => (a === '11000' ? '-5' : a))])).toMatch(
      /^error INVALID_PARAMS: --max-import-w must be an integer between 0 and/m,
    );
    expect(await bad(['bat-3', ...registerArgs])).toMatch(/--device-key FILE, or --public-key HEX and --pop HEX/);
  });

  it('update sends only what changed; --no-check-meter removes it; an update of nothing is refused', async () => {
    const r = await cli(['device', 'update', 'bat-1', '--max-export-w', '0', '--no-check-meter', ...sender]);
    expect(r.code, r.stderr).toBe(0);
    expect(decodeDeviceUpdateBody(lastSubmitted().body)).toEqual({ id: 'bat-1', maxExportW: 0, checkMeter: null });
    const op = formatAddress(new Uint8Array(20).fill(8));
    await cli(['device', 'update', 'bat-1', '--operator', op, '--zone', 'BE', ...sender]);
    const u = decodeDeviceUpdateBody(lastSubmitted().body);
    expect(u.zone).toBe('BE');
    expect(formatAddress(u.operator!)).toBe(op);
    expect((await cli(['device', 'update', 'bat-1', ...sender])).stderr).toMatch(/^error TX_INVALID_FIELD: .*changes? (at least one field|nothing)/m);
  });

  it('suspend, revoke, reactivate and rekey', async () => {
    for (const action of ['suspend', 'revoke', 'reactivate'] as const) {
      const r = await cli(['device', action, 'bat-1', ...sender]);
      expect(r.code, r.stderr).toBe(0);
      expect(lastSubmitted().type).toBe(TxType.deviceStatus);
      expect(decodeDeviceStatusBody(lastSubmitted().body)).toEqual({ id: 'bat-1', action });
    }
    const next = join(dir, 'next.key');
    writeFileSync(next, JSON.stringify(await encryptKey({ type: 'bls', secret: new Uint8Array(32).fill(32), insecure: true })));
    const r = await cli(['device', 'rekey', 'bat-1', '--device-key', next, ...sender]);
    expect(r.code, r.stderr).toBe(0);
    const body = decodeDeviceRekeyBody(lastSubmitted().body);
    expect(toHex(body.publicKey)).toBe(toHex(blsFromSecret(new Uint8Array(32).fill(32)).publicKey));
    expect(verifySignatureSet(deviceProofOfPossessionSet('joule-test', body.publicKey, body.proofOfPossession))).toBe(true);
  });
});

describe('joule role vote', () => {
  it('signs a type-26 vote; refuses the validator role and unknown actions', async () => {
    const r = await cli(['role', 'vote', 'grant', owner, 'market-operator', ...sender]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastSubmitted().type).toBe(TxType.roleVote);
    const body = decodeRoleVoteBody(lastSubmitted().body);
    expect(body.action).toBe('grant');
    expect(body.role).toBe('marketOperator');
    expect(formatAddress(body.account)).toBe(owner);
    expect((await cli(['role', 'vote', 'grant', owner, 'validator', ...sender])).stderr).toMatch(
      /^error INVALID_PARAMS: role must be one of dso, aggregator, market-operator, issuer, oracle/m,
    );
    expect((await cli(['role', 'vote', 'give', owner, 'dso', ...sender])).stderr).toMatch(/action must be grant or revoke/);
  });
});

describe('joule query device|devices|roles', () => {
  it('shows a device with its key history, pages the list, and shows roles', async () => {
    const k = blsFromSecret(deviceSecret).publicKey;
    const record: DeviceRecord = {
      id: 'pv-7',
      publicKey: k,
      owner: new Uint8Array(20).fill(6),
      operator: fake.alice.address,
      kind: 'solar',
      zone: 'NL',
      maxImportW: 0,
      maxExportW: 5000,
      carbonIntensity: 40,
      checkMeter: undefined,
      status: 'suspended',
      keyHistory: [{ key: k, fromHeight: 12 }],
    };
    fake.devices.set('pv-7', record);
    fake.devices.set('pv-8', { ...record, id: 'pv-8' });
    const show = await cli(['query', 'device', 'pv-7', '--rpc', rpc]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/status\s+suspended/);
    expect(show.stdout).toMatch(new RegExp(`key from height 12\\s+0x${toHex(k)}`));
    expect((await cli(['query', 'device', 'nope', '--rpc', rpc])).stderr).toMatch(/^error NOT_FOUND/m);
    const page = await cli(['query', 'devices', '--limit', '1', '--rpc', rpc]);
    expect(page.stdout).toMatch(/^pv-7 /m);
    expect(page.stdout).toMatch(/more: --cursor pv-7/);
    const rest = JSON.parse((await cli(['query', 'devices', '--cursor', 'pv-7', '--zone', 'NL', '--rpc', rpc, '--json'])).stdout);
    expect(rest).toMatchObject({ devices: [{ id: 'pv-8' }], nextCursor: null });
    const roles = await cli(['query', 'roles', formatAddress(fake.alice.address), '--rpc', rpc]);
    expect(roles.stdout).toMatch(/roles\s+dso/);
  });
});
