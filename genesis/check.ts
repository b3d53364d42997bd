import { fromHexOrUndefined } from '../core/bytes.ts';
import { UINT64_MAX } from '../core/codec.ts';
import type { GenesisProblem } from './types.ts';

/**
 * A problem collector with typed readers. Each reader records a problem at its path and
 * returns undefined instead of throwing, so validation reports every problem in one run
 * (an operator fixing a 20-validator genesis should not have to iterate 20 times).
 */
export class Checker {
  readonly problems: GenesisProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  object(v: unknown, path: string): Record<string, unknown> | undefined {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.add(path, `must be an object, got ${describe(v)}`);
      return undefined;
    }
    return v as Record<string, unknown>;
  }

  array(v: unknown, path: string): unknown[] | undefined {
    if (!Array.isArray(v)) {
      this.add(path, `must be an array, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  /** Reports fields not in `allowed` (typos such as `blsKeys` would otherwise be silently ignored). */
  unknownFields(o: Record<string, unknown>, allowed: readonly string[], path: string): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.add(join(path, k), `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }

  string(v: unknown, path: string, pattern?: RegExp, patternText?: string, maxLength = 256): string | undefined {
    if (typeof v !== 'string') {
      this.add(path, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    if (v.length === 0 || v.length > maxLength) {
      this.add(path, `must be 1 to ${maxLength} characters long, got ${v.length}`);
      return undefined;
    }
    if (pattern !== undefined && !pattern.test(v)) {
      this.add(path, `must match ${patternText ?? pattern.source}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  /** An integer in [min, max] (JSON number; heights, periods, limits). */
  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      this.add(path, `must be an integer, got ${describe(v)}`);
      return undefined;
    }
    if (v < min || v > max) {
      this.add(path, `must be between ${min} and ${max}, got ${v}`);
      return undefined;
    }
    return v;
  }

  /** A decimal string amount in [0, 2^64-1] (amounts exceed 2^53, so JSON numbers are refused). */
  amount(v: unknown, path: string): bigint | undefined {
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) {
      this.add(path, `must be a decimal string without sign, leading zeros or exponent (e.g. "1000"), got ${describe(v)}`);
      return undefined;
    }
    const n = BigInt(v);
    if (n > UINT64_MAX) {
      this.add(path, `must fit in uint64 (at most ${UINT64_MAX}), got ${v}`);
      return undefined;
    }
    return n;
  }

  /** 0x-prefixed hex of an exact byte length. */
  hex(v: unknown, path: string, length: number): Uint8Array | undefined {
    const b = typeof v === 'string' && v.startsWith('0x') ? fromHexOrUndefined(v) : undefined;
    if (b === undefined) {
      this.add(path, `must be 0x-prefixed hex, got ${describe(v)}`);
      return undefined;
    }
    if (b.length !== length) {
      this.add(path, `must be ${length} bytes, got ${b.length}`);
      return undefined;
    }
    return b;
  }
}

export function join(path: string, key: string): string {
  return path === '' || path === '$' ? key : `${path}.${key}`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `string "${v.slice(0, 40)}..."` : `string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
