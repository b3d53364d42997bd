import { StateMovedError } from '../../state/loaded-state.ts';

/** How often a read starts again before the node gives up (each retry follows a commit). */
const ATTEMPTS = 5;

/**
 * A read loaded from the state and listed at one height: a block committed while the page
 * was loading (StateMovedError) makes it start again on the new head, a few times at most
 * (a block commits about once a second; a page loads in milliseconds). Any other error is
 * the read's answer and passes through at once.
 */
export async function onOneHeight<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      if (!(e instanceof StateMovedError) || attempt >= ATTEMPTS) throw e;
    }
  }
}
