import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { IssuedCommand } from '../../core/command.ts';
import { ErrorCode } from '../../core/errors.ts';
import { contractClient, connect, type DeviceCall, ended, readingMessage, startHarness, type Harness } from './testing/harness.ts';

/**
 * The device stream end to end: a real grpc-js server with a real DeviceIngress behind it
 * (signatures verified by blst), and real grpc-js clients loaded from the contract .proto
 * alone. Each bad input gets its status code, or is dropped with its reason.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowUs = () => BigInt(Date.now()) * 1000n;

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A grid command for `deviceIds`, valid for a minute unless `over` says otherwise. */
function gridCommand(commandId: string, deviceIds: readonly string[], over: Partial<IssuedCommand> = {}): IssuedCommand {
  return {
    commandId,
    type: 1,
    powerLimitW: 3000,
    priceMicroPerKwh: 100_000n,
    validUntilUs: nowUs() + 60_000_000n,
    commandHash: new Uint8Array(32).fill(3),
    deviceIds,
    issuer: new Uint8Array(20),
    ...over,
  };
}

/** A device's stream that keeps the commands it receives (and ignores how it ends). */
function receiving(harness: Harness): { call: DeviceCall; got: Record<string, unknown>[] } {
  const call = connect(client(harness));
  const got: Record<string, unknown>[] = [];
  call.on('data', (m: Record<string, unknown>) => got.push(m));
  call.on('error', () => {});
  return { call, got };
}

let h: Harness | undefined;
const clients: { close(): void }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h?.close();
  h = undefined;
});

function client(harness: Harness, options: Record<string, unknown> = {}) {
  const c = contractClient(`127.0.0.1:${harness.server.port}`, options);
  clients.push(c);
  return c;
}

describe('ConnectDevice', () => {
  it('batches the readings of a registered device into a telemetry-batch tx with one aggregate signature', async () => {
    h = await startHarness();
    const d = h.addDevice('meter-1');
    const call = connect(client(h));
    const t = nowUs();
    for (let i = 0n; i < 5n; i++) call.write(readingMessage(d, t + i * 1_000_000n, -2n));
    await until('a batch of 5', () => h!.txs.reduce((n, tx) => n + tx.body.length, 0) > 0 && h!.acks.filter((a) => a.outcome === 'batched').length === 5);
    expect(h.acks.filter((a) => a.outcome === 'accepted').length).toBe(5);
    expect(h.txs[0]!.type).toBe(20);
    call.end();
    expect((await ended(call)).code).toBe(status.OK);
  });

  it('an unknown device, a revoked one, and one of another aggregator are refused on their first reading', async () => {
    h = await startHarness();
    const ghost = { id: 'ghost', key: h.addDevice('tmp').key };
    const revoked = h.addDevice('revoked', { status: 'revoked' });
    const other = h.addDevice('other', { operator: new Uint8Array(20).fill(7) });
    const c = client(h);
    const cases = [
      [ghost, status.UNAUTHENTICATED, ErrorCode.DEVICE_UNKNOWN],
      [revoked, status.UNAUTHENTICATED, ErrorCode.DEVICE_INACTIVE],
      [other, status.FAILED_PRECONDITION, ErrorCode.DEVICE_NOT_SERVED],
    ] as const;
    for (const [device, code, joule] of cases) {
      const call = connect(c);
      call.write(readingMessage(device, nowUs(), -1n));
      const s = await ended(call);
      expect(s.code, device.id).toBe(code);
      expect(s.details).toContain(joule);
    }
    expect(h.txs).toEqual([]);
  });

  it('a first reading without a valid device id is UNAUTHENTICATED', async () => {
    h = await startHarness();
    const call = connect(client(h));
    call.write({ device_id: 'not a device id!', timestamp_us: '1', net_energy_wh: '0', signature: Buffer.alloc(96) });
    expect((await ended(call)).code).toBe(status.UNAUTHENTICATED);
  });

  it('drops a bad signature, a timestamp not newer, an impossible value and a malformed reading with their reasons, and keeps the stream open', async () => {
    h = await startHarness();
    const d = h.addDevice('meter-2');
    const call = connect(client(h));
    const t = nowUs();
    call.write(readingMessage(d, t, -1n));
    call.write(readingMessage(d, t + 1_000_000n, -1n, true)); // signed over other bytes
    call.write(readingMessage(d, t, -1n)); // same timestamp again
    call.write(readingMessage(d, t + 2_000_000n, -1_000_000n)); // 1 MWh in a second from a 10 kW device
    call.write({ ...readingMessage(d, t + 3_000_000n, -1n), signature: Buffer.alloc(10) });
    call.write({ ...readingMessage(d, t + 4_000_000n, -1n), state_of_charge_percent: 150 });
    call.write(readingMessage(d, t + 5_000_000n, -1n));
    await until('7 verdicts', () => h!.acks.filter((a) => a.outcome === 'accepted' || a.outcome === 'rejected').length === 7);
    const dropped = h.acks.filter((a) => a.outcome === 'rejected').map((a) => a.reason);
    expect(dropped.sort()).toEqual(
      [
        ErrorCode.TX_BAD_SIGNATURE,
        ErrorCode.TELEMETRY_OUT_OF_ORDER,
        ErrorCode.TELEMETRY_IMPOSSIBLE_ENERGY,
        ErrorCode.INVALID_PARAMS,
        ErrorCode.INVALID_PARAMS,
      ].sort(),
    );
    expect(h.acks.filter((a) => a.outcome === 'accepted').map((a) => a.timestampUs)).toEqual([t, t + 5_000_000n]);
    call.end();
    expect((await ended(call)).code).toBe(status.OK);
  });

  it('a reading far from the node clock is dropped as TELEMETRY_SKEW', async () => {
    h = await startHarness();
    const d = h.addDevice('meter-3');
    const call = connect(client(h));
    call.write(readingMessage(d, nowUs() - 3_600_000_000n, -1n));
    await until('a verdict', () => h!.acks.length === 1);
    expect(h.acks[0]).toMatchObject({ outcome: 'rejected', reason: ErrorCode.TELEMETRY_SKEW });
    call.end();
    await ended(call);
  });

  it('readings that arrive late are dropped as TELEMETRY_SKEW but are no strikes: the stream stays open', async () => {
    h = await startHarness({ limits: { maxStrikes: 4 } });
    const d = h.addDevice('meter-late');
    const call = connect(client(h));
    // A device whose readings were held up (a stalled link): many times the strikes that cut a misbehaving one.
    const old = nowUs() - 3_600_000_000n;
    for (let i = 0n; i < 40n; i++) call.write(readingMessage(d, old + i, -1n));
    await until('40 verdicts', () => h!.acks.filter((a) => a.outcome === 'rejected').length === 40);
    expect(h.acks.every((a) => a.reason === ErrorCode.TELEMETRY_SKEW)).toBe(true);
    call.write(readingMessage(d, nowUs(), -1n));
    await until('the fresh reading accepted', () => h!.acks.some((a) => a.outcome === 'accepted'));
    call.end();
    expect((await ended(call)).code).toBe(status.OK);
  });

  it('a device that keeps sending bad readings is cut off with PERMISSION_DENIED', async () => {
    h = await startHarness({ limits: { maxStrikes: 4 } });
    const d = h.addDevice('meter-4');
    const call = connect(client(h));
    const t = nowUs();
    for (let i = 0n; i < 10n; i++) call.write(readingMessage(d, t + i, -1n, true));
    const s = await ended(call);
    expect(s.code).toBe(status.PERMISSION_DENIED);
    expect(s.details).toContain(ErrorCode.DEVICE_MISBEHAVING);
  });

  it('a device faster than its rate limit gets RESOURCE_EXHAUSTED; so do the devices of a connection beyond its limit', async () => {
    h = await startHarness({ limits: { readingsPerSecondPerDevice: 5, burstPerDevice: 5, readingsPerSecondPerConnection: 8, burstPerConnection: 8 } });
    const d = h.addDevice('fast');
    const c1 = connect(client(h));
    const t = nowUs();
    for (let i = 0n; i < 8n; i++) c1.write(readingMessage(d, t + i, 0n));
    const s = await ended(c1);
    expect(s.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(s.details).toContain(ErrorCode.RATE_LIMITED);
    // Two devices, 5 readings each, within their own limits, on one connection limited to 8.
    const c = client(h);
    const [a, b] = [h.addDevice('a'), h.addDevice('b')];
    const calls = [connect(c), connect(c)];
    for (let i = 0n; i < 5n; i++) {
      calls[0]!.write(readingMessage(a, t + i, 0n));
      calls[1]!.write(readingMessage(b, t + i, 0n));
    }
    const statuses = await Promise.race([Promise.any(calls.map(ended)), sleep(3000).then(() => ({ code: -1, details: '' }))]);
    expect(statuses.code).toBe(status.RESOURCE_EXHAUSTED);
    for (const call of calls) call.cancel();
  });

  it("a device's accepted readings are limited over all its streams: more streams (or connections) give it no more", async () => {
    // Each stream's own buckets let through far more than the device's 5 (no refill to speak of during the test).
    h = await startHarness({ rate: { perSecond: 0.001, burst: 5 } });
    const d = h.addDevice('many-streams');
    const t = nowUs();
    const verdicts = () => h!.acks.filter((a) => a.outcome === 'accepted' || a.outcome === 'rejected');
    const calls = [connect(client(h)), connect(client(h))];
    for (const [k, call] of calls.entries()) {
      for (let i = 0n; i < 4n; i++) call.write(readingMessage(d, t + BigInt(k) * 10n + i, 0n));
      await until(`the verdicts of stream ${k}`, () => verdicts().length === 4 * (k + 1));
    }
    expect(verdicts().map((a) => a.reason ?? a.outcome)).toEqual([...Array(5).fill('accepted'), ...Array(3).fill(ErrorCode.RATE_LIMITED)]);
    for (const call of calls) call.end();
  });

  it('pushes a grid command to the connected device at once, and never one that expired', async () => {
    h = await startHarness();
    const d = h.addDevice('charger-1');
    const { call, got } = receiving(h);
    call.write(readingMessage(d, nowUs(), 0n));
    await until('the stream is open', () => h!.ingress.connectedDevices === 1);
    const base = { powerLimitW: 7400, priceMicroPerKwh: 250_000n };
    expect(h.ingress.command(gridCommand('old', [d.id], { ...base, validUntilUs: nowUs() - 1n }))).toBe(0);
    const sentAt = Date.now();
    expect(h.ingress.command(gridCommand('c-1', [d.id], base))).toBe(1);
    await until('the command', () => got.length === 1, 1000);
    expect(Date.now() - sentAt).toBeLessThan(1000);
    expect(got[0]).toMatchObject({ command_id: 'c-1', type: 1, power_limit_kw: 7.400000095367432, valid_until_timestamp_us: expect.any(String) });
    expect(Number(got[0]!.price_per_kwh_cents)).toBeCloseTo(25, 4);
    await sleep(100);
    expect(got.map((m) => m.command_id)).toEqual(['c-1']);
    call.end();
  });

  it('holds a command for a device with no stream: delivered when it connects within the window, never after', async () => {
    h = await startHarness();
    const d = h.addDevice('charger-2');
    const another = h.addDevice('elsewhere', { operator: new Uint8Array(20).fill(7) });
    // Issued while the device is away: pushed to no stream, held (only for the device this node's aggregator serves).
    expect(h.ingress.command(gridCommand('long', [d.id, another.id]))).toBe(0);
    expect(h.ingress.command(gridCommand('short', [d.id, another.id], { validUntilUs: nowUs() + 300_000n }))).toBe(0);
    expect(h.ingress.heldCommands).toBe(2);
    await sleep(400); // 'short' ends meanwhile
    const { call, got } = receiving(h);
    const connectedAt = Date.now();
    call.write(readingMessage(d, nowUs(), 0n));
    await until('the held command', () => got.length === 1, 1000);
    expect(Date.now() - connectedAt).toBeLessThan(1000);
    await sleep(100);
    expect(got.map((m) => m.command_id)).toEqual(['long']);
    expect(h.ingress.heldCommands).toBe(0);
    call.end();
  });

  it("a stream that only names a device gets none of its commands and cannot take the held ones; the device's own stream gets them", async () => {
    h = await startHarness();
    const d = h.addDevice('charger-3');
    // Anyone may name the device: this stream's reading is signed over other bytes (no key of the device's).
    const { call: impostor, got: stolen } = receiving(h);
    impostor.write(readingMessage(d, nowUs(), 0n, true));
    await until('its reading dropped', () => h!.acks.some((a) => a.outcome === 'rejected' && a.reason === ErrorCode.TX_BAD_SIGNATURE));
    expect(h.ingress.connectedDevices).toBe(0);
    expect(h.ingress.command(gridCommand('held', [d.id]))).toBe(0);
    expect(h.ingress.heldCommands).toBe(1);
    // The device itself: its first verified reading proves the stream, and the held command comes.
    const { call: genuine, got } = receiving(h);
    genuine.write(readingMessage(d, nowUs(), 0n));
    await until('the held command', () => got.length === 1);
    expect(h.ingress.connectedDevices).toBe(1);
    // A command issued now goes to the proven stream only.
    expect(h.ingress.command(gridCommand('live', [d.id], { commandHash: new Uint8Array(32).fill(6) }))).toBe(1);
    await until('the live command', () => got.length === 2);
    await sleep(100);
    expect(got.map((m) => m.command_id)).toEqual(['held', 'live']);
    expect(stolen).toEqual([]);
    impostor.end();
    genuine.end();
  });

  it('a stream with no reading verified within proveWithinMs is closed UNAUTHENTICATED (DEVICE_UNPROVEN); a proven one stays', async () => {
    h = await startHarness({ limits: { proveWithinMs: 400 } });
    const d = h.addDevice('meter-9');
    const openedAt = Date.now();
    const silent = connect(client(h));
    silent.write(readingMessage(d, nowUs(), -1n, true)); // names the device, proves nothing
    const proven = connect(client(h));
    proven.write(readingMessage(d, nowUs() + 1n, -1n));
    const silentEnd = await ended(silent);
    expect(silentEnd.code).toBe(status.UNAUTHENTICATED);
    expect(silentEnd.details).toContain(ErrorCode.DEVICE_UNPROVEN);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(350);
    // A stream that sends nothing at all ends the same way.
    const mute = connect(client(h));
    expect((await ended(mute)).code).toBe(status.UNAUTHENTICATED);
    expect(h.ingress.connectedDevices).toBe(1);
    proven.write(readingMessage(d, nowUs() + 2n, -1n));
    await until('the second reading', () => h!.acks.filter((a) => a.deviceId === d.id && a.outcome === 'accepted').length === 2);
    proven.end();
    expect((await ended(proven)).code).toBe(status.OK);
  });

  it('at most maxUnprovenStreams wait for their proof: the next ends at once with RESOURCE_EXHAUSTED, and a proven one makes room', async () => {
    h = await startHarness({ limits: { maxUnprovenStreams: 2 } });
    const d = h.addDevice('meter-10');
    const c = client(h);
    const waiting = [connect(c), connect(c)];
    for (const w of waiting) w.on('error', () => {});
    waiting[0]!.write(readingMessage(d, nowUs(), -1n, true)); // proves nothing
    await sleep(200);
    const third = await ended(connect(c));
    expect(third.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(third.details).toContain(ErrorCode.SERVER_BUSY);
    // The second stream's device signs a reading: it is proven, and its place is free.
    waiting[1]!.write(readingMessage(d, nowUs() + 1n, -1n));
    await until('the device proven', () => h!.ingress.connectedDevices === 1);
    const fourth = connect(c);
    fourth.write(readingMessage(d, nowUs() + 2n, -1n));
    await until('the fourth stream accepted', () => h!.acks.filter((a) => a.outcome === 'accepted').length === 2);
    fourth.end();
    expect((await ended(fourth)).code).toBe(status.OK);
    for (const w of waiting) w.end();
  });

  it('an address whose unproven streams keep failing the signature check is refused, one verification at a time; its proven stream keeps flowing', async () => {
    h = await startHarness({ limits: { unprovenFailuresPerSecondPerAddress: 0.5 } }); // a burst of 5, then one every 2 s
    const genuine = h.addDevice('meter-11');
    const named = h.addDevice('meter-12');
    const c = client(h);
    const proven = connect(c);
    proven.on('error', () => {});
    const t = nowUs();
    proven.write(readingMessage(genuine, t, -1n));
    await until('the genuine device proven', () => h!.ingress.connectedDevices === 1);
    // Twenty readings in a device's name, none signed by its key, sent at once on one stream.
    const forged = connect(c);
    for (let i = 0n; i < 20n; i++) forged.write(readingMessage(named, t + i, -1n, true));
    const end = await ended(forged);
    expect(end.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(end.details).toContain(ErrorCode.RATE_LIMITED);
    // One at a time, each with a place in the budget: the five it could pay for, never the twenty.
    const failed = () => h!.acks.filter((a) => a.deviceId === named.id && a.reason === ErrorCode.TX_BAD_SIGNATURE).length;
    expect(failed()).toBe(5);
    // The address's next stream is refused before anything of it is verified.
    const next = connect(c);
    next.write(readingMessage(named, t + 100n, -1n, true));
    expect((await ended(next)).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(failed()).toBe(5);
    // The proven stream was never charged.
    proven.write(readingMessage(genuine, t + 1n, -1n));
    await until('its next reading', () => h!.acks.filter((a) => a.deviceId === genuine.id && a.outcome === 'accepted').length === 2);
    proven.end();
    expect((await ended(proven)).code).toBe(status.OK);
  });

  it('an honest fleet arriving at once from one address is never refused by the failure budget: past its room, first readings wait their turn', async () => {
    h = await startHarness({ limits: { unprovenFailuresPerSecondPerAddress: 0.2 } }); // room for 2 checks in flight
    const c = client(h);
    const fleet = Array.from({ length: 12 }, (_, i) => h!.addDevice(`arrival-${i}`));
    const streams = fleet.map((d) => {
      const call = connect(c);
      call.write(readingMessage(d, nowUs(), -1n));
      return call;
    });
    await until('all twelve proven', () => h!.ingress.connectedDevices === 12);
    expect(h.acks.filter((a) => a.outcome === 'accepted').length).toBe(12);
    for (const call of streams) call.end();
    for (const call of streams) expect((await ended(call)).code).toBe(status.OK);
  });

  it("a stream waiting for the failure budget's room is not closed by its proof's deadline: the wait is the node's, not the device's", async () => {
    // Room for 2.5 failures (0.25 a second); each check waits about a second for its batch.
    h = await startHarness({ limits: { unprovenFailuresPerSecondPerAddress: 0.25, proveWithinMs: 1500 }, maxBatchDelayMs: 1000 });
    const named = h.addDevice('meter-13');
    const honest = h.addDevice('meter-14');
    const c = client(h);
    const forgers = [connect(c), connect(c)];
    for (const [i, f] of forgers.entries()) {
      f.on('error', () => {});
      f.write(readingMessage(named, nowUs() + BigInt(i), -1n, true));
    }
    await sleep(100);
    const waiter = connect(c);
    waiter.write(readingMessage(honest, nowUs(), -1n));
    // Its reading waits for room (the forgers' checks, then their failures' refill: about 3 s), then has its check: it counts.
    await until('the honest device proven', () => h!.ingress.connectedDevices === 1, 8000);
    expect(h.acks.filter((a) => a.deviceId === named.id && a.reason === ErrorCode.TX_BAD_SIGNATURE).length).toBe(2);
    waiter.end();
    expect((await ended(waiter)).code).toBe(status.OK);
  });

  it('disconnects a device that takes none of its commands (slow consumer) instead of buffering them', async () => {
    h = await startHarness({ limits: { maxQueuedCommands: 4 } });
    const d = h.addDevice('sleepy');
    // A tiny flow-control window: the client's HTTP/2 stream stops taking data at once.
    const call = connect(client(h, { 'grpc-node.flow_control_window': 65_535 }));
    call.write(readingMessage(d, nowUs(), 0n));
    await until('the stream is open', () => h!.ingress.connectedDevices === 1);
    call.pause(); // the device reads nothing
    const s = new Promise<{ code: number; details: string }>((resolve) => call.on('error', (e: { code: number; details: string }) => resolve(e)));
    const big = { type: 0 as const, powerLimitW: 1, priceMicroPerKwh: 1n, commandHash: new Uint8Array(32) };
    for (let i = 0; i < 20_000 && h.ingress.connectedDevices === 1; i++) {
      h.ingress.command(gridCommand(`c-${i}-${'x'.repeat(1000)}`, [d.id], big));
      if (i % 100 === 0) await sleep(1);
    }
    expect(h.ingress.connectedDevices).toBe(0);
    call.resume();
    const end = await Promise.race([s, sleep(5000).then(() => ({ code: -1, details: 'no status' }))]);
    expect([status.RESOURCE_EXHAUSTED, status.CANCELLED, status.INTERNAL]).toContain(end.code);
  });
});
