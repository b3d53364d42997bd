/**
 * A signing thread of `joule simulate devices --devnet --presign`: signs its share of the
 * run's readings with blst (the node's library: fast; the @noble/curves interop path is
 * the --aggregator-key mode, cli/fleet.ts) and posts the signatures back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { blsSign } from '../../core/keys.ts';

export interface PresignJob {
  /** The devices' secret keys, by fleet index. */
  readonly keys: readonly Uint8Array[];
  /** Device index and the bytes it signs, per reading. */
  readonly readings: readonly { readonly device: number; readonly message: Uint8Array }[];
}

if (parentPort !== null) {
  const job = workerData as PresignJob;
  parentPort.postMessage(job.readings.map((r) => blsSign(job.keys[r.device]!, r.message)));
}
