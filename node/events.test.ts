import { describe, expect, it } from 'vitest';
import type { Receipt } from '../core/block.ts';
import type { Tx } from '../core/tx.ts';
import type { CommittedBlock } from './chain/chain.ts';
import { NodeEvents, type NodeEventType } from './events.ts';

function committed(height: number, txCount: number): CommittedBlock {
  const txs = Array.from({ length: txCount }, (_, i) => ({ hash: new Uint8Array([height, i]) }) as unknown as Tx);
  const receipts = txs.map((t): Receipt => ({ txHash: t.hash, success: true, code: '', feePaid: 1n, events: [] }));
  return { block: { header: { height } }, hash: new Uint8Array([height]), certificate: null, txs, receipts } as unknown as CommittedBlock;
}

describe('NodeEvents', () => {
  it('delivers typed events in order: the block, then each tx with its place and receipt', () => {
    const bus = new NodeEvents(() => {});
    const seen: string[] = [];
    bus.on('block-committed', (b) => seen.push(`block ${b.block.header.height}`));
    bus.on('tx-included', (t) => seen.push(`tx ${t.height}/${t.index} ${t.receipt.txHash.join('.')} in ${t.blockHash.join('.')}`));
    bus.emitCommitted(committed(7, 2));
    expect(seen).toEqual(['block 7', 'tx 7/0 7.0 in 7', 'tx 7/1 7.1 in 7']);
  });

  it('isolates a listener that throws: the others still run and the error is reported with its type', () => {
    const errors: [unknown, NodeEventType][] = [];
    const bus = new NodeEvents((e, type) => errors.push([e, type]));
    const heights: number[] = [];
    bus.on('block-committed', () => {
      throw new Error('listener bug');
    });
    bus.on('block-committed', (b) => heights.push(b.block.header.height));
    expect(() => bus.emitCommitted(committed(1, 0))).not.toThrow();
    expect(heights).toEqual([1]);
    expect(errors.map(([e, t]) => `${t}: ${(e as Error).message}`)).toEqual(['block-committed: listener bug']);
  });

  it('is bounded: a type refuses listeners beyond its limit with RATE_LIMITED, and unsubscribing frees a place', () => {
    const bus = new NodeEvents(() => {}, 2);
    const off = bus.on('block-committed', () => {});
    bus.on('block-committed', () => {});
    expect(() => bus.on('block-committed', () => {})).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    bus.on('tx-included', () => {}); // another type has its own bound
    off();
    off(); // idempotent
    expect(() => bus.on('block-committed', () => {})).not.toThrow();
  });

  it('builds no tx events when no one listens to them, and unsubscribed listeners hear nothing more', () => {
    const bus = new NodeEvents(() => {});
    expect(bus.has('tx-included')).toBe(false);
    let calls = 0;
    const off = bus.on('tx-included', () => calls++);
    bus.emitCommitted(committed(1, 3));
    off();
    bus.emitCommitted(committed(2, 3));
    expect(calls).toBe(3);
  });
});
