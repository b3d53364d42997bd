import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockHash, type CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { Genesis } from '../../genesis/types.ts';
import { Database } from '../../state/db.ts';
import { getValidatorSet } from '../../state/validator-set.ts';
import { WorldState } from '../../state/world-state.ts';
import { verifyBlock } from '../blocks/block-verifier.ts';
import { checkCertificate } from '../blocks/certificates.ts';
import { evidenceRules } from './evidence-verifier.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import { ChainStore } from './chain-store.ts';
import { genesisBlock, genesisChanges } from './genesis-state.ts';
import { nextBlockContext } from './next-block.ts';

export interface ReplayReport {
  readonly height: number;
  readonly stateRoot: Uint8Array;
  readonly blocks: number;
  readonly txs: number;
}

/**
 * Re-executes every block of a (stopped) node's store from genesis into a scratch
 * database and checks each header against re-execution: the proof that the stored state
 * is exactly what the blocks imply. Throws BLOCK_INVALID / STORE_CORRUPT at the first
 * disagreement, naming the height. Every commit certificate is checked on the way.
 */
export async function replayChain(dataDir: string, genesis: Genesis, onProgress?: (height: number, head: number) => void): Promise<ReplayReport> {
  const source = await Database.open(dataDir);
  const scratchDir = await mkdtemp(join(tmpdir(), 'joule-replay-'));
  const scratch = await Database.open(scratchDir);
  try {
    const store = new ChainStore(source);
    const head = await store.head();
    if (head === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, `${dataDir} holds no chain`);
    const world = await WorldState.open(scratch, { archive: true });
    const prepared = await world.prepare(genesisChanges(genesis), 0);
    const batch0 = scratch.batch();
    world.write(prepared, batch0);
    await batch0.write();
    world.commit(prepared);
    let parent = genesisBlock(genesis, world.root).header;
    const stored0 = await store.block(0);
    if (stored0 === undefined || !equalBytes(blockHash(stored0.header), blockHash(parent))) {
      throw new JouleError(ErrorCode.STORE_CORRUPT, 'the stored genesis block differs from the genesis file');
    }
    const sets = new Map<string, ValidatorSet>();
    const remember = (set: ValidatorSet) => sets.set(toHex(set.hash), set);
    remember(getValidatorSet(world)!);
    const rules = evidenceRules(genesis.chainId);
    const validatorSets = (h: Uint8Array) => sets.get(toHex(h));
    let parentCertificate: CommitCertificate | null = null;
    let txs = 0;
    for (let height = 1; height <= head; height++) {
      const block = await store.block(height);
      if (block === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, `block ${height} is missing`);
      const validatorSet = getValidatorSet(world);
      if (validatorSet === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, 'no validator set in state');
      const context = nextBlockContext({
        chainId: genesis.chainId,
        params: genesis.params,
        evidenceRules: rules,
        parent,
        parentHash: blockHash(parent),
        parentCertificate,
        validatorSet,
        world,
        validatorSets,
      });
      // No verification service in the context: the executor checks every signature itself, in block order.
      const executed = await verifyBlock({ context, block });
      const cert = await store.certificate(height);
      if (cert === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, `block ${height} has no certificate`);
      checkCertificate(cert, block.header, executed.hash, validatorSets);
      parentCertificate = cert;
      const batch = scratch.batch();
      world.write(executed.prepared, batch);
      await batch.write();
      world.commit(executed.prepared);
      remember(getValidatorSet(world)!);
      txs += block.txs.length;
      parent = block.header;
      onProgress?.(height, head);
    }
    const storedRoot = (await store.block(head))!.header.stateRoot;
    if (!equalBytes(storedRoot, world.root)) {
      throw new JouleError(ErrorCode.STORE_CORRUPT, `state root after replay ${toHex(world.root)} differs from the head's ${toHex(storedRoot)}`);
    }
    return { height: head, stateRoot: world.root, blocks: head, txs };
  } finally {
    await source.close();
    await scratch.close();
    await rm(scratchDir, { recursive: true, force: true });
  }
}
