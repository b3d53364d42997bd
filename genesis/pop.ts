/**
 * BLS proof of possession for genesis validators. The pure functions live in core/pop.ts
 * so the vm's validator-vote transaction (which may not import genesis/) checks exactly
 * the same message; re-exported here for genesis' existing callers.
 */
export { popMessage, signProofOfPossession, verifyProofOfPossession } from '../core/pop.ts';
