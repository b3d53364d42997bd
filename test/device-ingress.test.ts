import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, type ClientDuplexStream, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import type { BlockJson, StatusJson, TransactionJson } from '../core/rpc-json.ts';
import { buildDeviceRegister } from '../core/tx/device-register.ts';
import { fleetDevice, fleetRegistration, signReading } from '../cli/fleet.ts';
import { type NodeProcess, startTestNetwork, stopTestNetworks } from './helpers/cluster.ts';
import { rpc } from './helpers/net.ts';

/**
 * Device ingress on a real 4-validator devnet (4 OS processes): devices whose client is
 * built from the user's contract file alone (proto/energysettlement/v1/device.proto, loaded
 * by proto-loader; readings signed with @noble/curves, not the node's blst) stream signed
 * readings over gRPC to the validator whose aggregator account operates them; every valid
 * reading ends up in a final telemetry batch, a tampered one never; a device streaming to
 * a validator that does not operate it is refused with FAILED_PRECONDITION.
 */

const CONTRACT = fileURLToPath(new URL('../proto/energysettlement/v1/device.proto', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Call = ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>;

function contractClient(address: string) {
  const pkg = loadSync(CONTRACT, { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true });
  const Ctor = (loadPackageDefinition(pkg) as unknown as { energysettlement: { v1: { EnergyDeviceStream: ServiceClientConstructor } } }).energysettlement.v1
    .EnergyDeviceStream;
  return new Ctor(address, credentials.createInsecure());
}

describe('device ingress over gRPC on a 4-validator devnet', () => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    await stopTestNetworks(procs);
  });

  it('readings streamed by contract-only clients become final; tampered ones never; a device at the wrong validator is refused', async () => {
    const net = await startTestNetwork(procs, { validators: 4, accounts: 1, params: { blockPeriodMs: 300, emptyBlockPeriodMs: 300, requestTimeoutMs: 1500 } });
    const chainId = net.devnet.genesis.chainId;
    const urls = net.nodes.map((n) => n.rpcUrl);

    // Devices 0..2, each registered by validator i's aggregator account.
    const fleet = [0, 1, 2].map((i) => fleetDevice('ingress-test', 'dev', i));
    const hashes: string[] = [];
    for (const [i, d] of fleet.entries()) {
      const agg = net.devnet.aggregatorKeys[i]!.keyPair;
      const tx = buildDeviceRegister({
        chainId,
        seed: agg.seed,
        nonce: 0,
        fee: 25n,
        device: fleetRegistration(d, chainId, { owner: new Uint8Array(20).fill(1), kind: 'solar', zone: 'T', maxW: 10_000 }),
      });
      hashes.push((await rpc<{ hash: string }>(urls[i]!, 'joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`])).hash);
    }
    for (const h of hashes) {
      for (let t = 0; ; t++) {
        const r = await rpc<TransactionJson | null>(urls[0]!, 'joule_getTransaction', [h]);
        if (r !== null) {
          expect(r.receipt.success, JSON.stringify(r.receipt)).toBe(true);
          break;
        }
        if (t > 100) throw new Error(`registration ${h} not final`);
        await sleep(200);
      }
    }
    // Each device known to the validator it streams to, one block past its registration (its key signs from there).
    for (const [i, d] of fleet.entries()) {
      for (let t = 0; (await rpc<unknown>(urls[i]!, 'joule_getDevice', [d.id])) === null; t++) {
        if (t > 100) throw new Error(`${d.id} unknown to validator ${i}`);
        await sleep(100);
      }
    }
    await sleep(700);

    const start = (await rpc<StatusJson>(urls[3]!, 'joule_status')).height;
    const expected = new Set<string>();
    const tampered = new Set<string>();
    const calls: Call[] = [];
    for (const [i, d] of fleet.entries()) {
      const c = contractClient(`127.0.0.1:${net.nodes[i]!.ports.grpc}`);
      const call = (c as unknown as { ConnectDevice(): Call }).ConnectDevice();
      call.on('error', () => {});
      call.on('data', () => {});
      calls.push(call);
      const t0 = BigInt(Date.now()) * 1000n;
      for (let k = 0; k < 5; k++) {
        const ts = t0 + BigInt(k) * 200_000n;
        const r = signReading(d, chainId, { deviceId: d.id, timestampUs: ts, netEnergyWh: -1n, stateOfChargePercent: 0 });
        const bad = k === 2;
        call.write({
          device_id: d.id,
          timestamp_us: ts.toString(),
          net_energy_wh: (bad ? -2n : -1n).toString(),
          state_of_charge_percent: 0,
          signature: Buffer.from(r.signature),
        });
        (bad ? tampered : expected).add(`${d.id}/${ts}`);
      }
    }
    // Device 0 at validator 1, whose aggregator does not operate it.
    const wrong = (contractClient(`127.0.0.1:${net.nodes[1]!.ports.grpc}`) as unknown as { ConnectDevice(): Call }).ConnectDevice();
    const refused = new Promise<number>((resolve) => wrong.on('error', (e: { code: number }) => resolve(e.code)));
    wrong.on('data', () => {});
    const d0 = fleet[0]!;
    const later = BigInt(Date.now()) * 1000n + 5_000_000n;
    const r0 = signReading(d0, chainId, { deviceId: d0.id, timestampUs: later, netEnergyWh: 0n, stateOfChargePercent: 0 });
    wrong.write({ device_id: d0.id, timestamp_us: later.toString(), net_energy_wh: '0', state_of_charge_percent: 0, signature: Buffer.from(r0.signature) });
    expect(await refused).toBe(9); // FAILED_PRECONDITION

    // Every valid reading in a successful telemetry batch of a final block, read from validator 3.
    const found = new Set<string>();
    let scanned = start;
    const deadline = Date.now() + 30_000;
    while (found.size < expected.size && Date.now() < deadline) {
      const head = (await rpc<StatusJson>(urls[3]!, 'joule_status')).height;
      for (let h = scanned + 1; h <= head; h++) {
        const b = await rpc<BlockJson>(urls[3]!, 'joule_getBlock', [h, true]);
        for (const t of b.transactions as TransactionJson[]) {
          if (t.type !== 20) continue;
          expect(t.receipt.success, JSON.stringify(t.receipt)).toBe(true);
          for (const r of (t.body as { readings: { deviceId: string; timestampUs: string }[] }).readings) found.add(`${r.deviceId}/${r.timestampUs}`);
        }
        scanned = h;
      }
      await sleep(200);
    }
    const m0 = await (await fetch(`${net.nodes[0]!.metricsUrl}/metrics`)).text();
    expect(
      [...expected].filter((k) => !found.has(k)),
      m0
        .split('\n')
        .filter((l) => /grpc|ingress|rejections/.test(l) && !l.startsWith('#'))
        .join('\n'),
    ).toEqual([]);
    expect([...tampered].filter((k) => found.has(k))).toEqual([]);
    for (const c of calls) c.end();
    // The drops were counted on the validators that saw them.
    const metrics = await (await fetch(`${net.nodes[0]!.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/joule_grpc_readings_total\{outcome="TX_BAD_SIGNATURE"[^}]*\} 1/);
    expect(metrics).toMatch(/joule_grpc_readings_total\{outcome="accepted"[^}]*\} 4/);
    // Each good reading's age was observed at every stage it reached, the bad one at none.
    expect(metrics).toMatch(/joule_ingress_reading_age_seconds_count\{[^}]*stage="accepted"[^}]*\} 4/);
    expect(metrics).toMatch(/joule_ingress_reading_age_seconds_count\{[^}]*stage="batched"[^}]*\} 4/);
    const finalAges = async () =>
      /joule_ingress_reading_age_seconds_count\{[^}]*stage="final"[^}]*\} (\d+)/.exec(await (await fetch(`${net.nodes[0]!.metricsUrl}/metrics`)).text())?.[1];
    const until = Date.now() + 10_000;
    while ((await finalAges()) !== '4' && Date.now() < until) await sleep(100);
    expect(await finalAges()).toBe('4');
  }, 150_000);
});
