/** Test helpers for unit tests (not used by Joule itself). */
import { JouleError } from '../errors.ts';

/** The JouleError (or the error of `type`) `f` throws; fails the test if it returns or throws anything else. */
export function errorOf(f: () => unknown): JouleError;
export function errorOf<E extends Error>(f: () => unknown, type: new (...args: never[]) => E): E;
export function errorOf(f: () => unknown, type: new (...args: never[]) => Error = JouleError): Error {
  try {
    f();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}
