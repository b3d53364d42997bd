import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decode, readArray, readBytes } from '../../core/codec.ts';
import { buildEnergyRetire } from '../../core/tx/energy-retire.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import type { Tx } from '../../core/tx.ts';
import { reading } from '../../vm/testing/telemetry.ts';
import type { TxAdmission } from './admission.ts';
import { TxGossip } from './tx-gossip.ts';

const seed = new Uint8Array(32).fill(7);
const sender = (nonce: number) => ({ chainId: 'gossip-test', seed, nonce, fee: 1000n });
const transfer = (nonce: number): Tx => buildTransfer({ ...sender(nonce), to: new Uint8Array(20), amount: 1n });
const telemetryBatch = (nonce: number): Tx =>
  buildTelemetryBatch({ ...sender(nonce), keyHeight: 1, readings: [reading('d-1', 1_700_000_000_000, 5)], signature: new Uint8Array(96) });

/** The txs (their bytes) of each message published. */
function messages(published: Uint8Array[]): Uint8Array[][] {
  return published.map((m) => readArray(decode(m, 'txBatch'), 'txBatch').map((t, i) => readBytes(t, `txBatch[${i}]`)));
}

describe('TxGossip: when a locally admitted tx is sent', () => {
  let published: Uint8Array[];
  let gossip: TxGossip;
  beforeEach(() => {
    vi.useFakeTimers();
    published = [];
    gossip = new TxGossip((bytes) => published.push(bytes), {} as TxAdmission);
  });
  afterEach(() => {
    gossip.stop();
    vi.useRealTimers();
  });

  it('peer-to-peer and carbon-credit txs wait up to 100 ms for company, then go as one message', () => {
    const txs = [transfer(0), buildEnergyRetire({ ...sender(1), inputs: [new Uint8Array(32)], wh: 1n, beneficiary: new Uint8Array(20), purpose: 'test' })];
    for (const tx of txs) gossip.add(tx);
    vi.advanceTimersByTime(99);
    expect(published).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(messages(published)).toEqual([txs.map((t) => t.bytes)]);
  });

  it('a grid-balancing tx (a telemetry batch) goes at once, taking what waits with it', () => {
    const waiting = transfer(0);
    const batch = telemetryBatch(1);
    gossip.add(waiting);
    vi.advanceTimersByTime(10);
    gossip.add(batch);
    expect(messages(published)).toEqual([[waiting.bytes, batch.bytes]]);
    // Nothing is left for the timer to send again.
    vi.advanceTimersByTime(200);
    expect(published).toHaveLength(1);
  });

  it('a later tx starts a new wait after a grid-balancing tx went out', () => {
    gossip.add(telemetryBatch(0));
    const next = transfer(1);
    gossip.add(next);
    expect(published).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(messages(published)[1]).toEqual([next.bytes]);
  });
});
