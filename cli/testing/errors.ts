/** Test helpers for cli/'s unit tests (not used by the CLI itself). */
import { CliError } from '../rpc-client.ts';

/** The CliError `f` throws; fails the test if it returns or throws anything else. */
export function cliErrorOf(f: () => unknown): CliError {
  try {
    f();
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a CliError');
}
