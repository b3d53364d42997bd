import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import type { DeviceRecord } from '../core/device.ts';
import { encodeFlexActivation, encodeFlexBid, encodeFlexIntervalResult } from '../core/flex.ts';
import { formatAddress } from '../core/keys.ts';
import { encryptKey } from '../core/keystore.ts';
import { flexActivationKey, flexBidKey, flexIntervalKey } from '../core/state-keys.ts';
import { decodeFlexActivateBody } from '../core/tx/flex-activate.ts';
import { decodeFlexBidBody } from '../core/tx/flex-bid.ts';
import { decodeFlexConfirmBody } from '../core/tx/flex-confirm.ts';
import { decodeFlexWithdrawBody } from '../core/tx/flex-withdraw.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx } from '../core/tx.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import type { NodeApi } from '../rpc/node-api.ts';
import { createFakeNode, type FakeNode } from '../rpc/testing/fake-node.ts';
import { activationId, aggregator, bidId, dso, flexActivation, flexBid, flexInterval, START } from '../rpc/testing/flex-fixtures.ts';
import { flexProofKey } from './commands/flex.ts';
import { provenState, type ProvenState } from './testing/proven-state.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';
import { errorOf } from '../core/testing/errors.ts';
import { CliError } from './rpc-client.ts';

/** flex bid|activate|confirm|withdraw, flex show|list against rpc/'s fake node. */
let fake: FakeNode;
let server: RunningServer;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-flex-'));
const aliceKey = join(dir, 'alice.key');
const sender: string[] = [];
const rpc: string[] = [];
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
let proven: ProvenState;

function device(id: string, status: DeviceRecord['status'] = 'active'): DeviceRecord {
  return {
    id,
    publicKey: new Uint8Array(48),
    owner: new Uint8Array(20).fill(9),
    operator: fake.alice.address,
    kind: 'battery',
    zone: 'NL',
    maxImportW: 50_000,
    maxExportW: 50_000,
    carbonIntensity: 0,
    checkMeter: undefined,
    status,
    keyHistory: [{ key: new Uint8Array(48), fromHeight: 1 }],
  };
}

beforeAll(async () => {
  fake = createFakeNode();
  for (const d of [device('bat-2'), device('bat-1'), device('bat-9', 'revoked')]) fake.devices.set(d.id, d);
  proven = provenState(fake, [
    [flexBidKey(bidId), encodeFlexBid(flexBid)],
    [flexActivationKey(activationId), encodeFlexActivation(flexActivation)],
    [flexIntervalKey(activationId, START), encodeFlexIntervalResult(flexInterval)],
  ]);
  const api: NodeApi = {
    ...fake,
    getProof: (key) => proven.getProof(key),
    getFlexBid: (id) => (same(id, bidId) ? flexBid : undefined),
    getFlexActivation: (id) => (same(id, activationId) ? flexActivation : undefined),
    listFlexBids: () => ({ items: [{ id: bidId, bid: flexBid, key: flexBidKey(bidId) }], next: new Uint8Array([0xb1]) }),
    listFlexActivations: () => ({ items: [{ id: activationId, activation: flexActivation, key: flexActivationKey(activationId) }], next: undefined }),
    listFlexIntervals: () => ({ items: [{ intervalStartMs: START, result: flexInterval, key: flexIntervalKey(activationId, START) }], next: undefined }),
  };
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api });
  rpc.push('--rpc', `http://127.0.0.1:${server.port}`);
  sender.push('--key', aliceKey, ...rpc);
  writeFileSync(aliceKey, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastSubmitted = () => decodeTx(fake.submitted[fake.submitted.length - 1]!);
const terms = ['--capacity', '90', '--ramp-up', '30', '--ramp-down', '40', '--min-soc', '15', '--max-soc', '95', '--price', '120000000'];
const window = ['--from', String(START), '--until', new Date(START + 3_600_000).toISOString()];

describe('joule flex bid|activate|confirm|withdraw', () => {
  it('bid without --device offers every device the sender operates (not revoked), sorted; with --device the ones named', async () => {
    const r = await cli(['flex', 'bid', ...terms, ...window, ...sender, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.flexBid);
    expect(decodeFlexBidBody(tx.body)).toEqual({
      deviceIds: ['bat-1', 'bat-2'],
      capacityKw: 90,
      rampUpKwPerMin: 30,
      rampDownKwPerMin: 40,
      minSocPercent: 15,
      maxSocPercent: 95,
      pricePerMwh: 120_000_000n,
      availableFromMs: START,
      availableUntilMs: START + 3_600_000,
    });
    expect(tx.fee).toBe(25n);
    expect(JSON.parse(r.stdout)).toMatchObject({ deviceIds: ['bat-1', 'bat-2'], pricePerMwh: '120000000' });
    expect((await cli(['flex', 'bid', '--device', 'bat-2', ...terms, ...window, ...sender])).code).toBe(0);
    expect(decodeFlexBidBody(lastSubmitted().body).deviceIds).toEqual(['bat-2']);
  });

  it('bid refuses bad terms before anything is sent, naming the option', async () => {
    const sent = fake.submitted.length;
    const bad = (i: number, v: string) => terms.map((t, j) => (j === i ? v : t));
    expect((await cli(['flex', 'bid', ...bad(1, '0'), ...window, ...sender])).stderr).toMatch(/^error INVALID_PARAMS: --capacity must be an integer/m);
    expect((await cli(['flex', 'bid', ...bad(9, '101'), ...window, ...sender])).stderr).toMatch(
      /^error INVALID_PARAMS: --max-soc must be an integer between 0 and 100/m,
    );
    expect((await cli(['flex', 'bid', ...bad(11, '1.5'), ...window, ...sender])).stderr).toMatch(/^error INVALID_PARAMS: --price must be a whole number/m);
    const inverted = await cli(['flex', 'bid', ...bad(9, '10'), ...window, ...sender]);
    expect(inverted.stderr, inverted.stderr).toMatch(/^error TX_INVALID_FIELD: .*maxSocPercent/m);
    expect(fake.submitted.length).toBe(sent);
  });

  it('activate and confirm sign types 43 and 44 naming the bid and the activation; a bad id is refused', async () => {
    expect(
      (await cli(['flex', 'activate', `0x${toHex(bidId)}`, '--power', '40', '--start', String(START), '--end', String(START + 900_000), ...sender])).code,
    ).toBe(0);
    let tx = lastSubmitted();
    expect(tx.type).toBe(TxType.flexActivate);
    expect(decodeFlexActivateBody(tx.body)).toEqual({ bidId, powerKw: 40, startMs: START, endMs: START + 900_000 });
    expect((await cli(['flex', 'confirm', `0x${toHex(activationId)}`, ...sender])).code).toBe(0);
    tx = lastSubmitted();
    expect(tx.type).toBe(TxType.flexConfirm);
    expect(decodeFlexConfirmBody(tx.body).activationId).toEqual(activationId);
    expect((await cli(['flex', 'confirm', '0x1234', ...sender])).stderr).toMatch(/^error INVALID_PARAMS: activationId must be 0x and 32 bytes/m);
  });

  it('withdraw signs type 45 naming the bid; a bad id is refused', async () => {
    expect((await cli(['flex', 'withdraw', `0x${toHex(bidId)}`, ...sender])).code).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.flexWithdraw);
    expect(decodeFlexWithdrawBody(tx.body).bidId).toEqual(bidId);
    expect((await cli(['flex', 'withdraw', '0x12', ...sender])).stderr).toMatch(/^error INVALID_PARAMS: bidId must be 0x and 32 bytes/m);
  });
});

describe('joule flex show|list', () => {
  it('show: a bid, or an activation with its intervals, each with the state key to prove; neither is NOT_FOUND', async () => {
    const b = await cli(['flex', 'show', `0x${toHex(bidId)}`, ...rpc]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toContain('fleet       bat-0, bat-1');
    expect(b.stdout).toContain('capacity    500 kW, ramps up 100 / down 100 kW/min, state of charge 20-90 %');
    expect(b.stdout).toContain(`state key   0x${toHex(flexBidKey(bidId))}`);
    const a = await cli(['flex', 'show', `0x${toHex(activationId)}`, ...rpc]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain(`activation  0x${toHex(activationId)} (settled)`);
    expect(a.stdout).toContain('baseline    -200 Wh per interval (mean of 4 interval(s) before)');
    expect(a.stdout).toContain('settled     1 interval(s): delivered 1400 Wh, paid 140000, penalty 3000; escrow left 0');
    expect(a.stdout).toContain('metered 1200 Wh, baseline -200, delivered 1400/2000, paid 140000, penalty 3000');
    const j = JSON.parse((await cli(['flex', 'show', `0x${toHex(activationId)}`, ...rpc, '--json'])).stdout);
    expect(j).toMatchObject({ activation: { status: 'settled', confirmByMs: START + 10_000 }, intervals: [{ deliveredWh: '1400' }] });
    const none = await cli(['flex', 'show', `0x${'00'.repeat(32)}`, ...rpc]);
    expect(none.stderr).toMatch(/^error NOT_FOUND/m);
  });

  it('list: an aggregator’s bids or a bid’s activations, exactly one of the two', async () => {
    const bids = await cli(['flex', 'list', '--aggregator', formatAddress(aggregator), ...rpc]);
    expect(bids.code, bids.stderr).toBe(0);
    expect(bids.stdout).toContain(`0x${toHex(bidId)}       500 kW at 100000000 per MWh, 2 device(s)`);
    expect(bids.stdout).toContain('(1 bid(s); more: --cursor 0xb1)');
    const acts = await cli(['flex', 'list', '--bid', `0x${toHex(bidId)}`, ...rpc]);
    expect(acts.stdout).toContain(`0x${toHex(activationId)}  settled        240 kW`);
    expect((await cli(['flex', 'list', ...rpc])).stderr).toMatch(/^error INVALID_PARAMS: give one of --aggregator and --bid/m);
  });
});

describe('joule query proof flexbid:|activation:', () => {
  const B = `0x${toHex(bidId)}`;
  const A = `0x${toHex(activationId)}`;

  it('flexbid:0xID is the bid, activation:0xID the activation, activation:0xID@START its interval; other keys are not theirs', () => {
    expect(toHex(flexProofKey(`flexbid:${B}`)!)).toBe(`2201${toHex(bidId)}`);
    expect(toHex(flexProofKey(`activation:${A.toUpperCase().replace('0X', '0x')}`)!)).toBe(`2202${toHex(activationId)}`);
    expect(toHex(flexProofKey(`activation:${A}@${START}`)!)).toBe(`2203${toHex(activationId)}${START.toString(16).padStart(16, '0')}`);
    for (const other of [`agreement:${A}`, `flex:${B}`, 'activations', B]) expect(flexProofKey(other)).toBeUndefined();
  });

  it('refuses a malformed flexbid: or activation: key with INVALID_PARAMS naming the key', () => {
    const cases: [string, RegExp][] = [
      ['flexbid:', /^flexbid:0xID needs a bid id/],
      ['flexbid:0x01', /^flexbid:0xID needs a bid id/],
      [`flexbid:${B.slice(2)}`, /^flexbid:0xID needs a bid id/],
      [`flexbid:${B}00`, /^flexbid:0xID needs a bid id/],
      [`flexbid:${B}@${START}`, /^flexbid:0xID takes no @START/],
      [`activation:${A}@`, /^activation:0xID\[@START\] needs an activation id/],
      [`activation:${A}@2026-01-01T00:00:00Z`, /^activation:0xID\[@START\] needs/],
      [`activation:${A}#1`, /^activation:0xID\[@START\] needs/],
      [`activation:${A}@99999999999999999`, /^activation:0xID\[@START\] needs/],
      [`activation:${A}@9999999999999999`, /^activation:0xID@START needs an interval start in ms/],
    ];
    for (const [bad, message] of cases) {
      const e = errorOf(() => flexProofKey(bad), CliError);
      expect(e, bad).toMatchObject({ code: 'INVALID_PARAMS', field: 'key', message: expect.stringMatching(message) });
    }
  });

  it('query proof asks for those keys, verifies the proofs and prints the bid, the activation and the interval', async () => {
    proven.asked.length = 0;
    const lines: string[] = [];
    for (const key of [`flexbid:${B}`, `activation:${A}`, `activation:${A}@${START}`]) {
      const r = await cli(['query', 'proof', key, ...rpc]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/verified\s+yes \(inclusion proof\)/);
      lines.push(/^value\s+(.*)$/m.exec(r.stdout)![1]!);
    }
    const short = (id: Uint8Array) => `0x${toHex(id).slice(0, 16)}…`;
    expect(lines).toEqual([
      `flex bid ${short(bidId)}: 500 kW of 2 device(s) from ${formatAddress(aggregator)} at 100000000 per MWh, available ${START - 30_000} to ${START + 300_000}, activated until ${START + 30_000}`,
      `flex activation ${short(activationId)} of bid ${short(bidId)}: settled, 240 kW from ${START} to ${START + 30_000} for ${formatAddress(dso)}, 1 interval(s) settled, 1400 Wh delivered, 140000 paid, penalty 3000`,
      `flex interval of activation ${short(activationId)} from ${START} at height 12: metered 1200 Wh, baseline -200 Wh, delivered 1400 of 2000 Wh, paid 140000, penalty 3000 of 3000 due`,
    ]);
    expect(proven.asked).toEqual([flexBidKey(bidId), flexActivationKey(activationId), flexIntervalKey(activationId, START)].map(toHex));
    expect((await cli(['query', 'proof', 'flexbid:0x01', ...rpc])).stderr).toMatch(/^error INVALID_PARAMS: flexbid:0xID needs a bid id/m);
  });
});
