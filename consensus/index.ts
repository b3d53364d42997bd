/** The public surface of consensus/: what node/, p2p/, vm/ and rpc/ import. */
export { QbftMachine } from './machine.ts';
export {
  defaultBlockDigest, defaultBlockInfo,
  type BlockInfo, type ConsensusAction, type ConsensusEvent, type QbftConfig, type ValidationVerdict, type Verdict, type WalRecord,
} from './types.ts';
export { defaultCrypto, keySigner, type ConsensusCrypto, type Signer } from './crypto.ts';
export { checkMessage, type Outcome } from './message-check.ts';
export {
  Kind, KIND_NAMES, decodeMessage, encodeMessage, messageFromWire, messageToWire, messageSigningBytes, toCore,
  type Commit, type ConsensusMessage, type Justification, type PreparedCertificate, type Prepare, type Proposal, type RoundChange, type SignedCore, type Vote,
} from './messages.ts';
export { aggregateCertificate, verifyCertificate, type Seal } from './certificate.ts';
export { decodeEvidence, encodeEvidence, evidenceFromWire, evidenceToWire, makeEvidence, verifyEvidence, type Evidence } from './evidence.ts';
export { proposerIndex, proposerOf } from './proposer.ts';
export { decodeWalRecord, encodeWalRecord, walRecordHeight } from './wal-record.ts';
