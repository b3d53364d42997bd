import { describe, expect, it } from 'vitest';
import type { Vote } from '../core/signed-core.ts';
import type { ConsensusMessage } from './messages.ts';
import type { WalRecord } from './types.ts';
import { restoreHeight } from './wal-record.ts';

const me = new Uint8Array(20).fill(3);
const now = new Uint8Array(32).fill(1); // the height's validator set at the restart
const old = new Uint8Array(32).fill(2); // the set an emergency transition replaced
const message = (round: number, kind: number) => ({ kind, height: 5, round, author: me }) as unknown as ConsensusMessage;
const signed = (round: number, kind: number, validatorSetHash?: Uint8Array): WalRecord =>
  validatorSetHash === undefined ? { type: 'signed', message: message(round, kind) } : { type: 'signed', message: message(round, kind), validatorSetHash };
const prepared = (round: number, validatorSetHash?: Uint8Array): WalRecord => ({
  type: 'prepared',
  height: 5,
  round,
  digest: new Uint8Array(32).fill(round),
  block: new Uint8Array([round]),
  votes: [] as Vote[],
  ...(validatorSetHash === undefined ? {} : { validatorSetHash }),
});
/** What the machine's check says of a certificate: here, those of round 0 prove themselves, no other. */
const provable = (p: { round: number }) => p.round === 0;

describe('restoreHeight after an emergency transition', () => {
  it("keeps what was written under this height's set", () => {
    const r = restoreHeight([signed(0, 1, now), prepared(0, now), signed(1, 3, now)], 5, me, now, provable);
    expect([r.startRound, r.prepared?.round, r.startRoundReplaced, r.own.length]).toEqual([1, 0, false, 2]);
  });

  it('drops a certificate written under the replaced set, even one that would prove itself, and leaves a round signed in under it', () => {
    const r = restoreHeight([signed(0, 1, old), prepared(0, old), signed(0, 2, old)], 5, me, now, provable);
    expect([r.startRound, r.prepared, r.startRoundReplaced, r.own.length]).toEqual([0, null, true, 2]);
  });

  it('resumes normally once it has signed in a later round under the new set', () => {
    const r = restoreHeight([prepared(0, old), signed(1, 3, old), signed(2, 3, now)], 5, me, now, provable);
    expect([r.startRound, r.prepared, r.startRoundReplaced]).toEqual([2, null, false]);
  });

  it('records of older nodes (no set): a certificate is kept if it proves itself, and one that does not marks its round', () => {
    const kept = restoreHeight([signed(0, 1), prepared(0)], 5, me, now, provable);
    expect([kept.prepared?.round, kept.startRoundReplaced]).toEqual([0, false]);
    const dropped = restoreHeight([signed(1, 1), prepared(1)], 5, me, now, provable);
    expect([dropped.prepared, dropped.startRoundReplaced]).toEqual([null, true]);
  });

  it("ignores other heights and other authors' records", () => {
    const other = { type: 'signed', message: { ...message(4, 3), author: new Uint8Array(20) }, validatorSetHash: old } as WalRecord;
    const elsewhere = { type: 'signed', message: { ...message(7, 3), height: 4 }, validatorSetHash: old } as WalRecord;
    const r = restoreHeight([signed(0, 1, now), other, elsewhere], 5, me, now, provable);
    expect([r.startRound, r.startRoundReplaced, r.own.length]).toEqual([0, false, 1]);
  });
});
