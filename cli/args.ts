import { Option } from 'commander';
import { CliError } from './rpc-client.ts';

/**
 * Option parsers for commander (`.option(flags, text, parser)`): each refuses bad input
 * with `error INVALID_PARAMS` naming the option, before the command does anything.
 */

export function intArg(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new CliError('INVALID_PARAMS', `--${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`, name);
    }
    return Number(v);
  };
}

export function amountArg(name: string): (v: string) => bigint {
  return (v) => {
    if (!/^(0|[1-9][0-9]*)$/.test(v) || BigInt(v) >= 2n ** 64n) {
      throw new CliError('INVALID_PARAMS', `--${name} must be a whole number of micro-units below 2^64, got ${JSON.stringify(v)}`, name);
    }
    return BigInt(v);
  };
}

/**
 * An amount option with a default. commander prints option defaults with JSON.stringify,
 * which throws on a bigint (`--help` failed with "Do not know how to serialize a BigInt"),
 * so the default is described as text.
 */
export function amountOption(flags: string, description: string, name: string, defaultValue: bigint): Option {
  return new Option(flags, description).argParser(amountArg(name)).default(defaultValue, defaultValue.toString());
}

export function portArg(name: string): (v: string) => number {
  return intArg(name, 0, 65535);
}

/** A host name or IP address for a listening socket (no scheme, port or path). */
export function hostArg(name: string): (v: string) => string {
  return (v) => {
    if (!/^[A-Za-z0-9.:-]{1,253}$/.test(v)) throw new CliError('INVALID_PARAMS', `--${name} must be a host name or IP address, got ${JSON.stringify(v)}`, name);
    return v;
  };
}

/** Milliseconds since the Unix epoch, given as such or as an ISO 8601 date (2026-05-01T12:00:00Z). */
export function timeArg(name: string): (v: string) => number {
  return (v) => {
    const ms = /^[0-9]+$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : Number.NaN;
    if (!Number.isSafeInteger(ms) || ms <= 0) {
      throw new CliError(
        'INVALID_PARAMS',
        `--${name} must be milliseconds since the Unix epoch or an ISO 8601 time (2026-05-01T12:00:00Z), got ${JSON.stringify(v)}`,
        name,
      );
    }
    return ms;
  };
}
