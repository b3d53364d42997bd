import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { blsGenerate, ed25519Generate, addressFromPublicKey, formatAddress } from '../core/keys.ts';
import { encryptKeySync } from '../core/keystore.ts';
import type { DeviceJson, DeviceListJson, RolesJson } from '../core/rpc-json.ts';
import { type NodeProcess, runCli, startTestNetwork, stopTestNetworks } from './helpers/cluster.ts';
import { rpc } from './helpers/net.ts';

/**
 * Devices and roles on a real 4-validator cluster, driven by the CLI: account-0 (the
 * devnet operator, an aggregator) registers a meter and re-keys it; every node holds the
 * same record and key history, and `joule query proof device:ID` verifies it against a
 * certified header; three of the four validators grant an oracle role by vote.
 */
describe('devices and roles on a cluster', () => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    await stopTestNetworks(procs);
  });

  it('registers, re-keys and proves a device; grants a role by majority vote', async () => {
    const net = await startTestNetwork(procs, { validators: 4, accounts: 1, params: { blockPeriodMs: 300, emptyBlockPeriodMs: 300, requestTimeoutMs: 1500 } });
    const operatorKey = net.files.accounts[0]!.keyFile;
    const [k1, k2] = [blsGenerate(), blsGenerate()];
    const keyFile = (name: string, secret: Uint8Array) => {
      const f = join(net.dir, name);
      writeFileSync(f, JSON.stringify(encryptKeySync({ type: 'bls', secret, insecure: true })));
      return f;
    };
    const owner = formatAddress(addressFromPublicKey(ed25519Generate().publicKey));
    const node0 = net.nodes[0]!.rpcUrl;

    const reg = await runCli([
      'device',
      'register',
      'meter-0001',
      '--device-key',
      keyFile('k1.key', k1.secretKey),
      '--owner',
      owner,
      '--kind',
      'meter',
      '--zone',
      'NL',
      '--max-import-w',
      '17250',
      '--max-export-w',
      '11000',
      '--carbon-intensity',
      '0',
      '--key',
      operatorKey,
      '--rpc',
      node0,
      '--wait',
      '--json',
    ]);
    expect(reg.code, reg.stderr).toBe(0);
    const registeredAt = JSON.parse(reg.stdout).blockHeight as number;
    const rekey = await runCli([
      'device',
      'rekey',
      'meter-0001',
      '--device-key',
      keyFile('k2.key', k2.secretKey),
      '--key',
      operatorKey,
      '--rpc',
      net.nodes[1]!.rpcUrl,
      '--wait',
      '--json',
    ]);
    expect(rekey.code, rekey.stderr).toBe(0);
    const rekeyedAt = JSON.parse(rekey.stdout).blockHeight as number;

    const expected = [
      { key: `0x${toHex(k1.publicKey)}`, fromHeight: registeredAt + 1 },
      { key: `0x${toHex(k2.publicKey)}`, fromHeight: rekeyedAt + 1 },
    ];
    for (const n of net.nodes) {
      const d = await rpc<DeviceJson>(n.rpcUrl, 'joule_getDevice', ['meter-0001']);
      expect(d).toMatchObject({ id: 'meter-0001', kind: 'meter', status: 'active', owner, publicKey: expected[1]!.key, keyHistory: expected });
    }
    const operator = (JSON.parse(readFileSync(operatorKey, 'utf8')) as { address: string }).address;
    const page = await rpc<DeviceListJson>(net.nodes[3]!.rpcUrl, 'joule_listDevices', [{ operator, zone: 'NL' }]);
    expect(page).toMatchObject({ devices: [{ id: 'meter-0001', operator }], nextCursor: null });
    expect((await rpc<DeviceListJson>(net.nodes[3]!.rpcUrl, 'joule_listDevices', [{ zone: 'BE' }])).devices).toEqual([]);
    const proof = await runCli(['query', 'proof', 'device:meter-0001', '--rpc', net.nodes[2]!.rpcUrl]);
    expect(proof.code, proof.stderr).toBe(0);
    expect(proof.stdout).toMatch(/value\s+device meter-0001: meter, active, zone NL/);
    expect(proof.stdout).toMatch(/verified\s+yes \(inclusion proof\)/);

    const oracle = formatAddress(addressFromPublicKey(ed25519Generate().publicKey));
    for (const i of [0, 1, 2]) {
      const v = await runCli([
        'role',
        'vote',
        'grant',
        oracle,
        'oracle',
        '--key',
        net.files.validators[i]!.identityKeyFile,
        '--rpc',
        net.nodes[i]!.rpcUrl,
        '--wait',
        '--json',
      ]);
      expect(v.code, v.stderr).toBe(0);
      const roles = await rpc<RolesJson>(node0, 'joule_getRoles', [oracle]);
      expect(roles.roles).toEqual(i < 2 ? [] : ['oracle']);
      expect(roles.pending).toHaveLength(i < 2 ? 1 : 0);
    }
  }, 240_000);
});
