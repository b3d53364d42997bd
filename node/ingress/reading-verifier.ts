import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { SignatureSet } from '../../core/signature-sets.ts';
import { readingSigningBytes } from '../../core/telemetry.ts';
import type { SignedReading } from '../../rpc/grpc/device-ingress.ts';
import type { VerificationService } from '../verify/service.ts';

/**
 * Readings' own signatures, verified in batches shared by every device stream: readings
 * that arrive within `maxDelayMs` of each other (or `maxBatch` of them) go to the node's
 * verification service in ONE call, as single-message BLS sets, which its worker checks with
 * one randomised multi-pairing and bisects on failure (node/verify/batch.ts): a batch with
 * one forged reading costs about 2 log2(n) extra checks, not n. Readings priority, the
 * lowest: consensus, block import and the admission of txs go first, telemetry batches from
 * peers included (node/verify/service.ts says why). At most `maxQueued` readings wait here
 * (RATE_LIMITED beyond).
 */

export interface KeyedReading {
  readonly reading: SignedReading;
  /** The device's key that must have signed it. */
  readonly publicKey: Uint8Array;
}

interface Waiting {
  readonly items: readonly KeyedReading[];
  readonly resolve: (ok: boolean[]) => void;
  readonly reject: (e: unknown) => void;
}

export interface ReadingVerifierOptions {
  readonly chainId: string;
  readonly service: VerificationService;
  readonly maxBatch?: number;
  readonly maxDelayMs?: number;
  readonly maxQueued?: number;
  /** One call to the service: its readings and how many failed (metrics). */
  readonly onBatch?: (readings: number, bad: number) => void;
}

export class ReadingVerifier {
  private readonly opts: Required<Omit<ReadingVerifierOptions, 'onBatch'>> & Pick<ReadingVerifierOptions, 'onBatch'>;
  private waiting: Waiting[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: ReadingVerifierOptions) {
    this.opts = { maxBatch: 1024, maxDelayMs: 5, maxQueued: 8192, ...opts };
  }

  /** Readings waiting for a verdict. */
  get pending(): number {
    return this.queued;
  }

  /** One verdict per reading, in order: true when its signature verifies under its key. */
  verify(items: readonly KeyedReading[]): Promise<boolean[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.reject(new JouleError(ErrorCode.UNAVAILABLE, 'the ingress is stopping'));
    if (this.queued + items.length > this.opts.maxQueued)
      return Promise.reject(new JouleError(ErrorCode.RATE_LIMITED, `${this.queued} readings wait for verification on this node; try later`, 'readings'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.queued += items.length;
      if (this.queued >= this.opts.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.maxDelayMs);
    });
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    const count = batch.reduce((n, w) => n + w.items.length, 0);
    const sets: SignatureSet[] = [];
    for (const w of batch)
      for (const { reading, publicKey } of w.items)
        sets.push({ kind: 'bls', publicKey, message: readingSigningBytes(this.opts.chainId, reading), signature: reading.signature });
    this.opts.service.findInvalid(sets, { priority: 'readings', batchable: true }).then(
      (invalid) => {
        this.queued -= count;
        this.opts.onBatch?.(count, invalid.length);
        const bad = new Set(invalid);
        let i = 0;
        for (const w of batch) w.resolve(w.items.map(() => !bad.has(i++)));
      },
      (e: unknown) => {
        this.queued -= count;
        for (const w of batch) w.reject(e);
      },
    );
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const e = new JouleError(ErrorCode.UNAVAILABLE, 'the ingress is stopping');
    for (const w of this.waiting.splice(0)) w.reject(e);
    this.queued = 0;
  }
}
