import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { StateMovedError } from '../../state/loaded-state.ts';
import { onOneHeight } from './one-height.ts';

describe('onOneHeight', () => {
  it('starts a read again when a commit moved the state under it, and answers from the new head', async () => {
    let calls = 0;
    const answer = await onOneHeight(async () => {
      calls++;
      if (calls < 3) throw new StateMovedError(9 + calls, 10 + calls);
      return `read on attempt ${calls}`;
    });
    expect(answer).toBe('read on attempt 3');
  });

  it('gives up after five attempts so a read racing an endless stream of commits still ends', async () => {
    let calls = 0;
    const read = onOneHeight(async () => {
      calls++;
      throw new StateMovedError(calls, calls + 1);
    });
    await expect(read).rejects.toBeInstanceOf(StateMovedError);
    expect(calls).toBe(5);
  });

  it('passes any other error through at once, including a STORE_MISMATCH that is not a moved state', async () => {
    let calls = 0;
    const read = onOneHeight(async () => {
      calls++;
      throw new JouleError(ErrorCode.STORE_MISMATCH, 'batch already written');
    });
    await expect(read).rejects.toMatchObject({ code: 'STORE_MISMATCH', message: 'batch already written' });
    expect(calls).toBe(1);
  });
});
