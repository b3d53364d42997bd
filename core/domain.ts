import { encode, type Encodable } from './codec.ts';

/**
 * Domain tags: every signed payload starts with one of these and the chain id, so a
 * signature made for one kind of message on one chain verifies for nothing else.
 */
export const Domain = {
  tx: 'JOULE/tx/v1',
  proposal: 'JOULE/qbft/proposal/v1',
  prepare: 'JOULE/qbft/prepare/v1',
  commitSeal: 'JOULE/qbft/commit-seal/v2',
  commit: 'JOULE/qbft/commit/v1',
  roundChange: 'JOULE/qbft/round-change/v1',
  transition: 'JOULE/validator-transition/v1',
  telemetry: 'JOULE/telemetry/v1',
  gridCommand: 'JOULE/grid-command/v1',
  proofOfPossession: 'JOULE/bls-pop/v1',
} as const;
export type DomainTag = (typeof Domain)[keyof typeof Domain];

/** The bytes a signer signs: canonical encoding of [tag, chainId, ...fields]. */
export function signingBytes(tag: DomainTag, chainId: string, fields: readonly Encodable[]): Uint8Array {
  return encode([tag, chainId, ...fields]);
}
