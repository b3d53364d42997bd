/** Test helpers for core/'s unit tests (not used by Joule itself). */
import { JouleError } from '../errors.ts';

/** The JouleError `f` throws; fails the test if it returns or throws anything else. */
export function errorOf(f: () => unknown): JouleError {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return e;
    throw e;
  }
  throw new Error('expected a JouleError');
}
