import { describe, expect, it } from 'vitest';
import { formatCertificate, formatProof, formatTransaction, toJsonValue } from './json-format.ts';
import { createFakeNode, makeTransfer } from '../testing/fake-node.ts';

describe('json-format', () => {
  it('toJsonValue: bigint -> string, bytes -> hex, undefined/NaN -> null, nested', () => {
    expect(toJsonValue({ a: 2n ** 64n, b: new Uint8Array([0, 16]), c: [undefined, NaN, 'x'], d: { e: true } })).toEqual({
      a: '18446744073709551616',
      b: '0x0010',
      c: [null, null, 'x'],
      d: { e: true },
    });
  });

  it('certificate signer indexes come from the bitmap (bit i of byte i>>3)', () => {
    const c = formatCertificate({
      height: 3,
      round: 1,
      blockHash: new Uint8Array(32),
      aggregateSignature: new Uint8Array(96),
      signers: new Uint8Array([0b10000001, 0b1]),
    });
    expect(c.signerIndexes).toEqual([0, 7, 8]);
    expect(c.signers).toBe('0x8101');
  });

  it('proof of absence has value null', () => {
    const p = formatProof(new Uint8Array([1, 2]), { height: 4, stateRoot: new Uint8Array(32), value: undefined, proof: new Uint8Array([9]) });
    expect(p).toEqual({ key: '0x0102', height: 4, stateRoot: '0x' + '00'.repeat(32), value: null, proof: '0x09' });
  });

  it('a body the type registry cannot describe is shown raw instead of failing the call', () => {
    const node = createFakeNode();
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20), 1n);
    const unknown = { ...tx, type: 99 };
    const json = formatTransaction(
      {
        tx: unknown,
        height: 1,
        index: 0,
        blockHash: new Uint8Array(32),
        receipt: { txHash: tx.hash, success: false, code: 'TX_UNKNOWN_TYPE', feePaid: 0n, events: [] },
      },
      node.describeTx,
    );
    expect(json).toMatchObject({
      type: 99,
      typeName: 'unknown',
      body: { raw: expect.stringMatching(/^0x/) },
      receipt: { success: false, code: 'TX_UNKNOWN_TYPE', feePaid: '0' },
    });
  });
});
