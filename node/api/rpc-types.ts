/**
 * The JSON shapes of the JSON-RPC API (docs/json-rpc.md), for clients such as the CLI,
 * which reaches rpc/ only through node/ (DESIGN.md layering). One definition, on the
 * server side, so client and server cannot drift apart.
 */
export type { AccountJson, BlockJson, CertificateJson, ProofJson, ReceiptJson, StatusJson, TransactionJson } from '../../rpc/jsonrpc/json-format.ts';
export type { EvidenceJson, ValidatorProposalJson, ValidatorsJson } from '../../rpc/jsonrpc/consensus-format.ts';
