/**
 * Stopping work whose client is gone. Each request carries an AbortSignal (aborted when
 * its connection closes); long methods call `checkpoint` between items, which also lets
 * the event loop run, so that a closed connection is noticed at all while they work.
 */
import { setImmediate } from 'node:timers/promises';
import { ErrorCode, JouleError } from '../core/errors.ts';

export function cancelled(): JouleError {
  return new JouleError(ErrorCode.REQUEST_CANCELLED, 'the client went away; the request was stopped');
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw cancelled();
}

/** Yields to the event loop once, then stops (REQUEST_CANCELLED) if the client is gone. */
export async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  await setImmediate();
  throwIfCancelled(signal);
}
