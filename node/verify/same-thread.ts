import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { SignatureSet } from '../../core/signature-sets.ts';
import { findInvalidSets, judgeTogether, type CheckCounter, type JobVerdict } from './batch.ts';
import type { VerificationService, VerifyOptions } from './service.ts';

/**
 * The verification service on the caller's own thread, one job at a time as submitted
 * (no priorities to honour: nothing waits). For unit tests and tools (replay, a chain
 * opened outside a node); the same batch code as the workers, so its verdicts are theirs.
 */
export class SameThreadVerifier implements VerificationService {
  /** Checks made so far (single verifications and multi-pairings), for tests. */
  readonly counter: CheckCounter = { checks: 0 };
  /** Sets submitted so far, for tests. */
  submitted = 0;
  private closed = false;

  async findInvalid(sets: readonly SignatureSet[], _opts: VerifyOptions): Promise<number[]> {
    this.take(sets);
    return findInvalidSets(sets, this.counter);
  }

  async findInvalidTogether(sets: readonly SignatureSet[], _opts: VerifyOptions): Promise<JobVerdict> {
    this.take(sets);
    return judgeTogether(sets, this.counter);
  }

  async verify(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<boolean> {
    return (await this.findInvalid(sets, opts)).length === 0;
  }

  private take(sets: readonly SignatureSet[]): void {
    if (this.closed) throw new JouleError(ErrorCode.UNAVAILABLE, 'signature verification has stopped');
    this.submitted += sets.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
