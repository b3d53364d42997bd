import { describe, expect, it } from 'vitest';
import { closeQueueKey } from '../core/state-keys.ts';
import { EMPTY_STATE, StateOverlay } from './overlay.ts';
import { dueQueuedCloses, firstQueuedClose, putCloseItem } from './telemetry.ts';

describe('the close queue', () => {
  const queue = () => {
    const s = new StateOverlay(EMPTY_STATE);
    for (const d of ['a', 'b']) {
      putCloseItem(s, 0, d, { checkMeter: undefined, reported: true });
      putCloseItem(s, 1000, d, { checkMeter: undefined, reported: false });
    }
    return s;
  };

  it('lists the due entries from the head, in key order, stopping at the first not due or at the limit', () => {
    const s = queue();
    expect(dueQueuedCloses(s, 10, (I) => I < 1000).map((q) => [q.intervalStartMs, q.deviceId, q.item.reported])).toEqual([
      [0, 'a', true],
      [0, 'b', true],
    ]);
    expect(dueQueuedCloses(s, 10, () => true)).toHaveLength(4);
    expect(dueQueuedCloses(s, 3, () => true)).toHaveLength(3);
    expect(dueQueuedCloses(s, 10, () => false)).toEqual([]);
    expect(firstQueuedClose(s)).toMatchObject({ intervalStartMs: 0, deviceId: 'a' });
  });

  it('never decodes an entry that is not due', () => {
    const s = queue();
    // A value that does not decode, in an interval not due: reaching it would throw.
    s.set(closeQueueKey(1000, 'c', false), new Uint8Array([0xff, 0xff]));
    expect(dueQueuedCloses(s, 10, (I) => I < 1000)).toHaveLength(2);
    expect(() => dueQueuedCloses(s, 10, () => true)).toThrow();
  });
});
