import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuedCommand } from '../core/command.ts';
import type { DeviceRecord } from '../core/device.ts';
import { encryptKey } from '../core/keystore.ts';
import { decodeCommandAnchorBody } from '../core/tx/command-anchor.ts';
import { decodeTx } from '../core/tx.ts';
import { CommandIssuer } from '../node/commands/issuer.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import { createFakeNode, FAKE_CHAIN_ID, type FakeNode } from '../rpc/testing/fake-node.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';

/** joule command issue against rpc/'s fake node, with the node's real CommandIssuer behind joule_issueCommand. */
let fake: FakeNode;
let server: RunningServer;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-commands-'));
const key = join(dir, 'dso.key');
const announced: IssuedCommand[] = [];
const base: string[] = [];

function device(id: string, zone: string, status: DeviceRecord['status'] = 'active'): DeviceRecord {
  return {
    id,
    publicKey: new Uint8Array(48),
    owner: new Uint8Array(20).fill(9),
    operator: fake.alice.address,
    kind: 'ev-charger',
    zone,
    maxImportW: 11_000,
    maxExportW: 11_000,
    carbonIntensity: 0,
    checkMeter: undefined,
    status,
    keyHistory: [{ key: new Uint8Array(48), fromHeight: 1 }],
  };
}

beforeAll(async () => {
  fake = createFakeNode();
  const issuer = new CommandIssuer({
    chainId: FAKE_CHAIN_ID,
    submit: async (bytes) => {
      await fake.submitTransaction(bytes);
      return decodeTx(bytes);
    },
    announce: (c) => announced.push(c),
  });
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api: { ...fake, issueCommand: (b) => issuer.issue(b) } });
  writeFileSync(key, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
  base.push('--key', key, '--rpc', `http://127.0.0.1:${server.port}`);
  for (const d of [device('ev-2', 'NL'), device('ev-1', 'NL'), device('ev-3', 'BE'), device('ev-4', 'NL', 'revoked')]) fake.devices.set(d.id, d);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastBody = () => decodeCommandAnchorBody(decodeTx(fake.submitted[fake.submitted.length - 1]!).body);

describe('joule command issue', () => {
  it('signs a command-anchor for the named devices (sorted) and the node announces it', async () => {
    const r = await cli([
      'command',
      'issue',
      '--type',
      'curtail',
      '--device',
      'ev-2',
      'ev-1',
      '--power-limit-w',
      '3000',
      '--price-micro',
      '150000',
      '--json',
      ...base,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ type: 'curtail', deviceIds: ['ev-1', 'ev-2'], powerLimitW: 3000, priceMicroPerKwh: '150000' });
    expect(lastBody()).toMatchObject({ type: 3, deviceIds: ['ev-1', 'ev-2'], zone: undefined, powerLimitW: 3000 });
    expect(lastBody().validUntilUs - lastBody().validFromUs).toBe(300_000_000n);
    expect(announced.at(-1)!.commandId).toBe(out.commandId);
  });

  it('resolves a zone to the active devices the dso operates there', async () => {
    const r = await cli(['command', 'issue', '--type', 'idle', '--zone', 'NL', '--valid-for', '60', '--json', ...base]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastBody()).toMatchObject({ type: 2, deviceIds: ['ev-1', 'ev-2'], zone: 'NL', powerLimitW: 0 });
  });

  it('refuses bad input with a typed error and sends nothing', async () => {
    const before = fake.submitted.length;
    const cases: [string[], RegExp][] = [
      [['--type', 'explode', '--device', 'ev-1'], /INVALID_PARAMS.*--type/],
      [['--type', 'charge'], /--device ID\.\.\. or --zone/],
      [['--type', 'charge', '--device', 'ev-1', '--zone', 'NL'], /--device ID\.\.\. or --zone/],
      [['--type', 'charge', '--zone', 'XX'], /NOT_FOUND/],
      [['--type', 'idle', '--device', 'ev-1', '--power-limit-w', '5'], /TX_INVALID_FIELD/],
      [['--type', 'charge', '--device', 'ev-1', '--valid-for', '0'], /INVALID_PARAMS/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['command', 'issue', ...args, ...base]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(fake.submitted.length).toBe(before);
  });
});
