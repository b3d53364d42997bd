/** vm/: deterministic execution. The public surface node/, mempool and rpc import. */
export { BlockExecutor, executeBlock, type ExecutorOptions } from './executor.ts';
export { checkTx, signatureFailure, txSignatureSets, validateTx, type CheckOptions, type ValidTx } from './validity.ts';
export { describeTx } from './describe.ts';
export { txTier, txPriority, tierParams } from './tiers.ts';
export { txHandler, requireTxHandler, registeredTxTypes, endBlockHooks } from './registry.ts';
export { MAX_END_BLOCK_WORK } from './end-block.ts';
export type {
  BlockContext,
  BlockResult,
  ChainContext,
  EndBlockHook,
  EvidenceRules,
  ExecContext,
  TierName,
  TxHandler,
  TxSignatureSet,
  WorkBudget,
} from './types.ts';
export { blockAccess, END_BLOCK_LATER_STAGES, endBlockAccess, mergeAccess, txAccess, type AccessList } from './access.ts';
export { activationCommand } from './flex/command.ts';
