import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { Database } from '../../state/db.ts';
import { verifyState, type VerifyProgress } from '../../state/verify-state.ts';
import { loadConfig, resolveIn } from '../home/config.ts';
import { ChainStore } from './chain-store.ts';

export interface HomeStateReport {
  readonly height: number;
  readonly stateRoot: Uint8Array;
  readonly values: number;
}

/**
 * `joule verify-state`: recomputes the whole state tree of a stopped node's home from its
 * flat values, and checks the result against the committed state root and the head
 * block's header. Throws STORE_CORRUPT naming the difference; UNAVAILABLE while the node
 * runs (LevelDB's lock).
 */
export async function verifyHomeState(home: string, onProgress?: (p: VerifyProgress) => void): Promise<HomeStateReport> {
  const config = loadConfig(home);
  const db = await Database.open(resolveIn(home, config.dataDir));
  try {
    const head = await new ChainStore(db).head();
    if (head === undefined) throw new JouleError(ErrorCode.NOT_FOUND, `${home} holds no chain yet`);
    const block = await new ChainStore(db).block(head);
    if (block === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, `the head block ${head} is missing`);
    const report = await verifyState(db, onProgress);
    if (report.version !== head || !equalBytes(report.root, block.header.stateRoot)) {
      throw new JouleError(
        ErrorCode.STORE_CORRUPT,
        `the state (height ${report.version}, root ${toHex(report.root)}) is not the head block's (height ${head}, state root ${toHex(block.header.stateRoot)})`,
      );
    }
    return { height: head, stateRoot: report.root, values: report.values };
  } finally {
    await db.close();
  }
}
