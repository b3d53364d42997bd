/**
 * A verification worker (worker_threads): receives packed signature sets (wire.ts), answers
 * the indexes of those that do not verify and, for each range judged as one sum, the sum
 * of the rest's signatures (batch.ts: blst and node:crypto, loaded here, in this thread).
 * Holds no state but node:crypto's public-key cache.
 */
import { parentPort } from 'node:worker_threads';
import { judgeMessage } from './batch.ts';
import { unpackSets } from './wire.ts';

export interface WorkerRequest {
  readonly id: number;
  readonly sets: Uint8Array;
  /** Ranges [start, end) of sets judged as one sum each (VerificationService.findInvalidTogether). */
  readonly together: readonly (readonly [number, number])[];
}

export type WorkerReply =
  /** `sums`: one per `together` range, in order (batch.ts judgeMessage). */
  | { readonly id: number; readonly invalid: number[]; readonly sums: (Uint8Array | undefined)[]; readonly checks: number }
  | { readonly id: number; readonly error: string };

if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (req: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      const counter = { checks: 0 };
      const { invalid, sums } = judgeMessage(unpackSets(req.sets), req.together, counter);
      reply = { id: req.id, invalid, sums, checks: counter.checks };
    } catch (e) {
      reply = { id: req.id, error: (e as Error).message };
    }
    port.postMessage(reply);
  });
}
