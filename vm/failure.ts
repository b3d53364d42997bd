import type { BlockEvent } from '../core/block.ts';
import { JouleError, type ErrorCode } from '../core/errors.ts';
import type { StateOverlay } from '../state/overlay.ts';

/**
 * An execution failure that must still leave a trace. Thrown by a handler's `execute`: the
 * tx fails like any other (receipt success=false with `code`, fee charged, nonce bumped,
 * every write `execute` made discarded), and then `effects` runs on a fresh overlay of the
 * block whose writes and events are kept. For a rule whose breach is itself a fact the
 * chain must record: a telemetry batch with an impossible reading counts none of its
 * readings, and flags the device for inspection (vm/telemetry/batch.ts).
 *
 * `effects` must not throw: it runs on state the tx's validity already checked; a throw is a
 * bug, and the executor refuses the block rather than guess (vm/executor.ts).
 */
export class FailureWithEffects extends JouleError {
  readonly effects: (state: StateOverlay) => BlockEvent[];

  constructor(code: ErrorCode, message: string, field: string, effects: (state: StateOverlay) => BlockEvent[]) {
    super(code, message, field);
    this.name = 'FailureWithEffects';
    this.effects = effects;
  }
}
