import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import type { DeviceRecord } from '../core/device.ts';
import { blsAggregateVerify } from '../core/keys.ts';
import { encryptKey } from '../core/keystore.ts';
import { openInterval } from '../core/meter.ts';
import { readingSigningBytes, type Reading } from '../core/telemetry.ts';
import { decodeCheckMeterResolutionBody } from '../core/tx/check-meter-resolution.ts';
import { decodeTelemetryBatchBody } from '../core/tx/telemetry-batch.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx } from '../core/tx.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import { createFakeNode, FAKE_CHAIN_ID, type FakeNode } from '../rpc/testing/fake-node.ts';
import { fleetDevice, signReading } from './fleet.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';

/** telemetry submit|resolve and query readings|intervals|health against rpc/'s fake node; readings signed with @noble/curves. */
let fake: FakeNode;
let server: RunningServer;
let rpc: string;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-telemetry-'));
const aliceKey = join(dir, 'alice.key');
const fleet = [0, 1, 2].map((i) => fleetDevice('cli-test', 'pv', i));
const T = 1_700_000_000_000_000n;

function device(i: number): DeviceRecord {
  const d = fleet[i]!;
  return {
    id: d.id,
    publicKey: d.publicKey,
    owner: fake.alice.address,
    operator: fake.alice.address,
    kind: 'solar',
    zone: 'NL',
    maxImportW: 1000,
    maxExportW: 5000,
    carbonIntensity: 20,
    checkMeter: undefined,
    status: 'active',
    keyHistory: [{ key: d.publicKey, fromHeight: 1 }],
  };
}

/** 12 readings of the fleet, signed with noble; `spoilt` ones with another device's key. */
function signedFile(name: string, spoilt: readonly number[] = []): string {
  const rows = Array.from({ length: 12 }, (_, k) => {
    const i = k % 3;
    const r: Reading = { deviceId: fleet[i]!.id, timestampUs: T + BigInt(k), netEnergyWh: -BigInt(k), stateOfChargePercent: 0 };
    const s = signReading(spoilt.includes(k) ? fleet[(i + 1) % 3]! : fleet[i]!, FAKE_CHAIN_ID, r);
    return {
      deviceId: s.deviceId,
      timestampUs: s.timestampUs.toString(),
      netEnergyWh: s.netEnergyWh.toString(),
      stateOfChargePercent: 0,
      signature: `0x${toHex(s.signature)}`,
    };
  });
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(rows));
  return file;
}

beforeAll(async () => {
  fake = createFakeNode();
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api: fake });
  rpc = `http://127.0.0.1:${server.port}`;
  writeFileSync(aliceKey, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
  fleet.forEach((_, i) => fake.devices.set(fleet[i]!.id, device(i)));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sender = () => ['--key', aliceKey, '--rpc', rpc];

describe('joule telemetry submit', () => {
  it('checks every reading, aggregates them into batches the chain verifies through blst', async () => {
    const before = fake.submitted.length;
    const r = await cli(['telemetry', 'submit', '--file', signedFile('good.json'), '--max-readings', '5', ...sender(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const txs = fake.submitted.slice(before).map((b) => decodeTx(b));
    expect(txs.map((t) => t.type)).toEqual([TxType.telemetryBatch, TxType.telemetryBatch, TxType.telemetryBatch]);
    expect(txs.map((t) => t.nonce)).toEqual([0, 1, 2]);
    const bodies = txs.map((t) => decodeTelemetryBatchBody(t.body));
    expect(bodies.map((b) => b.readings.length)).toEqual([5, 5, 2]);
    expect(bodies[0]!.keyHeight).toBe(fake.status().height + 1);
    for (const b of bodies) {
      const keys = b.readings.map((x) => fake.devices.get(x.deviceId)!.publicKey);
      expect(
        blsAggregateVerify(
          b.readings.map((x) => readingSigningBytes(FAKE_CHAIN_ID, x)),
          keys,
          b.signature,
        ),
      ).toBe(true);
    }
  });

  it('names a bad reading and sends nothing', async () => {
    const before = fake.submitted.length;
    const r = await cli(['telemetry', 'submit', '--file', signedFile('bad.json', [7]), ...sender()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error TX_BAD_SIGNATURE: readings\[7\]\.signature: the signature of device "pv-1" at 1700000000000007 µs/m);
    expect(fake.submitted.length).toBe(before);
  });

  it('refuses a malformed file by field', async () => {
    const file = join(dir, 'malformed.json');
    writeFileSync(file, JSON.stringify([{ deviceId: 'pv-0', timestampUs: '1', netEnergyWh: '1' }]));
    expect((await cli(['telemetry', 'submit', '--file', file, ...sender()])).stderr).toMatch(/^error INVALID_PARAMS: readings\[0\]\.signature/m);
  });
});

describe('joule telemetry resolve', () => {
  it('signs a type-27 resolution', async () => {
    const r = await cli(['telemetry', 'resolve', 'pv-0', '--interval', '1700000010000', '--accept', 'value', '--value-wh', '105', ...sender(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const tx = decodeTx(fake.submitted[fake.submitted.length - 1]!);
    expect(tx.type).toBe(TxType.checkMeterResolution);
    expect(decodeCheckMeterResolutionBody(tx.body)).toEqual({ deviceId: 'pv-0', intervalStartMs: 1_700_000_010_000, resolution: 'value', valueWh: 105n });
    expect((await cli(['telemetry', 'resolve', 'pv-0', '--interval', '0', '--accept', 'device', '--value-wh', '3', ...sender()])).stderr).toMatch(
      /^error INVALID_PARAMS/m,
    );
  });
});

describe('joule query readings|intervals|health', () => {
  it('prints what the node serves', async () => {
    fake.readings.push({ deviceId: 'pv-0', timestampUs: T, netEnergyWh: -7n, stateOfChargePercent: 0, height: 4 });
    fake.intervals.push({ ...openInterval('pv-0', 1_700_000_010_000), readings: 1, exportWh: 7n, status: 'closed', mintedWh: 7n });
    const readings = await cli(['query', 'readings', 'pv-0', '--rpc', rpc]);
    expect(readings.stdout).toContain('2023-11-14T22:13:20.000000Z   1700000000000000 µs        -7 Wh');
    const intervals = JSON.parse((await cli(['query', 'intervals', 'pv-0', '--rpc', rpc, '--json'])).stdout);
    expect(intervals.intervals[0]).toMatchObject({ status: 'closed', mintedWh: '7' });
    const health = await cli(['query', 'health', 'pv-0', '--rpc', rpc]);
    expect(health.stdout).toMatch(/status\s+active \(in dispatch\)/);
    expect((await cli(['query', 'health', 'ghost', '--rpc', rpc])).stderr).toMatch(/^error NOT_FOUND/m);
  });
});
