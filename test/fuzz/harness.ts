/**
 * The fuzz harness: a target turns bytes into a call of the code that takes untrusted input
 * and checks its properties. An input passes when the call returns, or throws a typed
 * JouleError (a rejection); anything else thrown is a crash, a broken property (a round trip
 * that does not hold) is a crash too, and an input slower than the target's limit is a hang.
 *
 * Input `index` of a run with `seed` is generated from (seed, index) alone, so any input is
 * reproduced without the ones before it: `npm run fuzz -- --target T --seed S --index I`.
 */
import fc from 'fast-check';
import { isJouleError } from '../../core/errors.ts';

export interface FuzzTarget {
  readonly name: string;
  /** What untrusted input it feeds, into what (one line, for `npm run fuzz -- --list`). */
  readonly description: string;
  /** Inputs of `npm test`'s short budget (about a second or two each on a laptop core). */
  readonly quickRuns: number;
  /** Longest an input may take (ms) before it counts as a hang. Default DEFAULT_LIMIT_MS. */
  readonly limitMs?: number;
  /**
   * Outcome labels the short budget must produce at least once: proof that the inputs get
   * past the first checks into the code that matters (fuzz.test.ts checks it).
   */
  readonly reaches: readonly string[];
  /**
   * The error codes this input's rejections may carry (for text files: the file's own, which
   * lists or names the problem). Another typed error is a finding too: typed, but not telling
   * the operator what is wrong where. Unset: any JouleError.
   */
  readonly codes?: readonly string[];
  /** Builds what the target needs (keys, a chain in `env.tmpDir`, a valid corpus). */
  setup(env: FuzzEnv): Promise<FuzzInstance> | FuzzInstance;
}

export interface FuzzEnv {
  /** A private directory, removed after the run. */
  readonly tmpDir: string;
}

export interface FuzzInstance {
  readonly inputs: fc.Arbitrary<Uint8Array>;
  /**
   * Runs one input. Returns an outcome label for the statistics (e.g. 'accept'), or nothing;
   * throws a JouleError to reject it (counted by code), a PropertyViolation when a property
   * does not hold, anything else when the code under test crashed.
   */
  run(input: Uint8Array): string | undefined | Promise<string | undefined> | Promise<void> | void;
  close?(): Promise<void> | void;
}

/** A property of the code under test that does not hold for this input (not an exception of the code itself). */
export class PropertyViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyViolation';
  }
}

export function violation(message: string): PropertyViolation {
  return new PropertyViolation(message);
}

export const DEFAULT_LIMIT_MS = 2_000;

export type FindingKind = 'crash' | 'property' | 'hang' | 'memory';

export interface Finding {
  readonly kind: FindingKind;
  readonly seed: number;
  readonly index: number;
  readonly input: Uint8Array;
  readonly message: string;
  readonly stack?: string | undefined;
  readonly ms?: number | undefined;
}

export interface RunOptions {
  readonly seed: number;
  /** Stop after this many inputs... */
  readonly runs?: number | undefined;
  /** ...or after this many seconds, whichever comes first (at least one input runs). */
  readonly seconds?: number | undefined;
  /** First index (default 0): a run can be resumed or split. */
  readonly startIndex?: number | undefined;
  readonly limitMs?: number | undefined;
  /** The JouleError codes a rejection may carry (FuzzTarget.codes); unset: any. */
  readonly codes?: readonly string[] | undefined;
  /** Stop after this many findings (default 10). */
  readonly maxFindings?: number | undefined;
  /** Told of each input before it runs (the worker shares it with its watchdog). */
  readonly onInput?: ((index: number, input: Uint8Array) => void) | undefined;
  /** Told when that input is done. */
  readonly afterInput?: (() => void) | undefined;
  readonly onFinding?: ((f: Finding) => void) | undefined;
}

export interface RunResult {
  readonly runs: number;
  readonly findings: Finding[];
  /** Outcome label (or `reject:<code>`) -> inputs. */
  readonly outcomes: Record<string, number>;
  readonly slowestMs: number;
  readonly elapsedMs: number;
}

/** A 32-bit seed for input `index` of a run (murmur3's finaliser over both). */
export function inputSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** splitmix32 as a pure-rand RandomGenerator (what fc.Random wraps), so generation needs nothing but fast-check. */
class SplitMix32 {
  private state: number;
  constructor(seed: number) {
    this.state = seed | 0;
  }
  clone(): SplitMix32 {
    return new SplitMix32(this.state);
  }
  next(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  }
  getState(): readonly number[] {
    return [this.state];
  }
}

/**
 * Input `index` of the run `seed`. The bias (fast-check's preference for small and edge
 * values) varies with the input: strong for some, none for others.
 */
export function inputAt(inputs: fc.Arbitrary<Uint8Array>, seed: number, index: number): Uint8Array {
  const s = inputSeed(seed, index);
  const random = new fc.Random(new SplitMix32(s));
  const bias = [2, 3, 5, 10, undefined][(s >>> 8) % 5];
  return inputs.generate(random, bias).value;
}

function describe(e: unknown): { message: string; stack?: string | undefined } {
  if (e instanceof Error) return { message: `${e.name}: ${e.message}`, stack: e.stack };
  return { message: `non-Error thrown: ${String(e)}` };
}

/** Runs `instance` on generated inputs in this thread. A true hang (a loop that never ends) needs the worker's watchdog (run.ts). */
export async function runInputs(instance: FuzzInstance, opts: RunOptions): Promise<RunResult> {
  const limitMs = opts.limitMs ?? DEFAULT_LIMIT_MS;
  const maxFindings = opts.maxFindings ?? 10;
  const start = performance.now();
  const deadline = opts.seconds === undefined ? Infinity : start + opts.seconds * 1000;
  const end = opts.runs === undefined ? Infinity : (opts.startIndex ?? 0) + opts.runs;
  const findings: Finding[] = [];
  const outcomes: Record<string, number> = {};
  let slowestMs = 0;
  let runs = 0;
  const found = (f: Finding) => {
    findings.push(f);
    opts.onFinding?.(f);
  };
  for (let index = opts.startIndex ?? 0; index < end; index++) {
    if (runs > 0 && performance.now() >= deadline) break;
    const input = inputAt(instance.inputs, opts.seed, index);
    opts.onInput?.(index, input);
    const t0 = performance.now();
    let outcome: string;
    try {
      outcome = (await instance.run(input)) ?? 'ok';
    } catch (e) {
      if (isJouleError(e) && (opts.codes === undefined || opts.codes.includes(e.code))) outcome = `reject:${e.code}`;
      else if (isJouleError(e)) {
        outcome = 'finding';
        found({
          kind: 'property',
          seed: opts.seed,
          index,
          input,
          message: `rejected with ${e.code}, not one of ${opts.codes!.join(', ')}: ${e.message}`,
          stack: e.stack,
        });
      } else {
        outcome = 'finding';
        found({ kind: e instanceof PropertyViolation ? 'property' : 'crash', seed: opts.seed, index, input, ...describe(e) });
      }
    }
    const ms = performance.now() - t0;
    opts.afterInput?.();
    runs++;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (ms > slowestMs) slowestMs = ms;
    if (ms > limitMs) found({ kind: 'hang', seed: opts.seed, index, input, message: `took ${ms.toFixed(0)} ms, limit ${limitMs} ms`, ms });
    if (findings.length >= maxFindings) break;
  }
  return { runs, findings, outcomes, slowestMs, elapsedMs: performance.now() - start };
}

/** Runs one given input (a saved reproducer) and says what happened, with the stack of a crash. */
export async function runOne(instance: FuzzInstance, input: Uint8Array, codes?: readonly string[]): Promise<{ outcome: string; ms: number; error?: unknown }> {
  const t0 = performance.now();
  try {
    const outcome = (await instance.run(input)) ?? 'ok';
    return { outcome, ms: performance.now() - t0 };
  } catch (e) {
    const typed = isJouleError(e) && (codes === undefined || codes.includes(e.code));
    return {
      outcome: typed ? `reject:${(e as { code: string }).code}` : isJouleError(e) || e instanceof PropertyViolation ? 'property' : 'crash',
      ms: performance.now() - t0,
      error: e,
    };
  }
}
