/**
 * A verification worker (worker_threads): receives packed signature sets (wire.ts), answers
 * the indexes of those that do not verify (batch.ts: blst and node:crypto, loaded here, in
 * this thread). Holds no state but node:crypto's public-key cache.
 */
import { parentPort } from 'node:worker_threads';
import { findInvalidInMessage } from './batch.ts';
import { unpackSets } from './wire.ts';

export interface WorkerRequest {
  readonly id: number;
  readonly sets: Uint8Array;
  /** Ranges [start, end) of sets judged as one sum each (VerifyOptions.together). */
  readonly together: readonly (readonly [number, number])[];
}

export type WorkerReply = { readonly id: number; readonly invalid: number[]; readonly checks: number } | { readonly id: number; readonly error: string };

if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (req: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      const counter = { checks: 0 };
      const invalid = findInvalidInMessage(unpackSets(req.sets), req.together, counter);
      reply = { id: req.id, invalid, checks: counter.checks };
    } catch (e) {
      reply = { id: req.id, error: (e as Error).message };
    }
    port.postMessage(reply);
  });
}
