/**
 * The pieces of the state layout a client needs to name and read state (which key an
 * address's account lives under, how an account value decodes). The CLI reaches state/
 * only through node/, per the layering in DESIGN.md.
 */
export { bitsToRoles, decodeAccount, type Account } from '../../state/accounts.ts';
export { accountKey, StatePrefix } from '../../state/keys.ts';
