/** What the benchmarks time with: elapsed milliseconds, and the median of repeated measurements (one run on this shared machine can differ from the next by half). */

/** Milliseconds since `start` (process.hrtime.bigint()). */
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** Seconds since `start` (process.hrtime.bigint()). */
export const secondsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/** The middle value (the upper of the two middle ones for an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
