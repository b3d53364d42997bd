/**
 * The state key space. The table lives in core/state-keys.ts (rpc/ and the CLI name
 * state keys too); state/'s views import it from here.
 */
export { accountKey, StatePrefix, stateKey } from '../core/state-keys.ts';
