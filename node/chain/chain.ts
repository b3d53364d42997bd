import { blockHash, type Block, type BlockHeader, type CommitCertificate, type Receipt } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { decodeTx, type Tx } from '../../core/tx.ts';
import { type Validator, ValidatorSet } from '../../core/validators.ts';
import type { Genesis } from '../../genesis/types.ts';
import { Database, type OpenOptions } from '../../state/db.ts';
import { decodeValidators, encodeValidators, getValidatorSet, VALIDATOR_SET_KEY } from '../../state/validator-set.ts';
import { concatBytes, utf8 } from '../../core/bytes.ts';
import { type DbBatch, DbPrefix, dbKey, SCHEMA_VERSION } from '../../state/db.ts';
import { WorldState, type WorldStateOptions } from '../../state/world-state.ts';
import type { ExecutedBlock } from '../blocks/block-builder.ts';
import { ChainStore } from './chain-store.ts';
import { indexReadings, readIndexedReadings, type IndexedReading } from './readings-index.ts';
import { genesisBlock, genesisChanges } from './genesis-state.ts';
import { evidenceRules } from './evidence-verifier.ts';
import type { EvidenceRules } from '../../vm/index.ts';
import type { SignatureVerification } from '../verify/service.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import { VerifiedTxs } from '../verify/verified-txs.ts';
import { nextBlockContext, type NextBlockContext } from './next-block.ts';

function validatorSetKey(hash: Uint8Array): Uint8Array {
  return dbKey(DbPrefix.consensus, concatBytes(utf8('validator-set/'), hash));
}

/** How the chain keeps its state (node config `state`) and its LevelDB, and how it verifies signatures. */
export interface ChainOptions {
  readonly state?: WorldStateOptions;
  readonly db?: OpenOptions;
  /** Default: verification on the calling thread (tests, tools); a node passes its worker pool. */
  readonly signatures?: SignatureVerification;
}

/** The committed head: what every other part reads as "the chain now". */
export interface Head {
  readonly header: BlockHeader;
  readonly hash: Uint8Array;
  readonly certificate: CommitCertificate | null;
}

export interface CommittedBlock {
  readonly block: Block;
  readonly hash: Uint8Array;
  readonly certificate: CommitCertificate | null;
  readonly txs: readonly Tx[];
  readonly receipts: readonly Receipt[];
}

/** Txs kept in the default verified-tx cache (a node sizes its own from its mempool). */
const DEFAULT_VERIFIED_TXS = 100_000;

/**
 * The durable chain: LevelDB, the world state and the head. Opening it either writes
 * genesis (empty store) or recovers the last committed block and checks that the store
 * is consistent before anything runs on it, in a time that does not grow with the chain
 * or the state (the state root the head names is the one committed with it; `joule
 * verify-state` recomputes it from every value on demand). `commit` is the only writer:
 * one atomic, fsynced batch per block, so a crash at any instant leaves either the old
 * head or the new one.
 */
export class Chain {
  readonly db: Database;
  readonly store: ChainStore;
  readonly world: WorldState;
  readonly genesis: Genesis;
  readonly genesisHash: Uint8Array;
  /** The signature verification service and the cache of txs this node verified (admission and block import share both). */
  readonly signatures: SignatureVerification;
  /** Evidence-tx rules for vm/ (built on consensus/; vm cannot import it). */
  private readonly evidenceRules: EvidenceRules;
  private currentHead: Head;
  /** The context of the block after the head; rebuilt when the head or the transitions change. */
  private next: NextBlockContext | undefined;
  private currentValidators: ValidatorSet;
  private readonly setsByHash = new Map<string, ValidatorSet>();
  private readonly transitions = new Map<number, ValidatorSet>();

  private constructor(db: Database, world: WorldState, genesis: Genesis, genesisHash: Uint8Array, head: Head, opts: ChainOptions) {
    this.db = db;
    this.store = new ChainStore(db);
    this.world = world;
    this.genesis = genesis;
    this.genesisHash = genesisHash;
    this.evidenceRules = evidenceRules(genesis.chainId);
    this.signatures = opts.signatures ?? { service: new SameThreadVerifier(), verifiedTxs: new VerifiedTxs(DEFAULT_VERIFIED_TXS) };
    this.currentHead = head;
    this.currentValidators = Chain.validatorsOf(world);
    this.setsByHash.set(toHex(this.currentValidators.hash), this.currentValidators);
  }

  /** Every validator set the chain has had, by hash, so any block's certificate can be checked. */
  private static putValidatorSet(batch: DbBatch, set: ValidatorSet): void {
    batch.put(validatorSetKey(set.hash), encodeValidators(set));
  }

  /** Sets already loaded (the current one, the head's, and any looked up before). */
  cachedValidatorSet(hash: Uint8Array): ValidatorSet | undefined {
    return this.setsByHash.get(toHex(hash));
  }

  async validatorSetByHash(hash: Uint8Array): Promise<ValidatorSet | undefined> {
    const id = toHex(hash);
    const cached = this.setsByHash.get(id);
    if (cached !== undefined) return cached;
    const raw = await this.db.get(validatorSetKey(hash));
    if (raw === undefined) return undefined;
    const set = decodeValidators(raw);
    this.setsByHash.set(id, set);
    return set;
  }

  private static validatorsOf(world: WorldState): ValidatorSet {
    const set = getValidatorSet(world);
    if (set === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, 'the state holds no validator set');
    return set;
  }

  static async open(path: string, genesis: Genesis, genesisHash: Uint8Array, options: ChainOptions = {}): Promise<Chain> {
    const db = await Database.open(path, options.db);
    try {
      const store = new ChainStore(db);
      const storedGenesis = await store.genesisHash();
      if (storedGenesis === undefined) return await Chain.initialise(db, genesis, genesisHash, options);
      if (!equalBytes(storedGenesis, genesisHash)) {
        throw new JouleError(
          ErrorCode.STORE_MISMATCH,
          `the database at ${path} belongs to another chain (genesis ${toHex(storedGenesis).slice(0, 16)}…, this genesis ${toHex(genesisHash).slice(0, 16)}…)`,
        );
      }
      return await Chain.recover(db, store, genesis, genesisHash, path, options);
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  private static async initialise(db: Database, genesis: Genesis, genesisHash: Uint8Array, options: ChainOptions): Promise<Chain> {
    const world = await WorldState.open(db, options.state ?? {});
    if (world.version !== -1) throw new JouleError(ErrorCode.STORE_CORRUPT, `the database at ${db.path} holds state but no chain`);
    const prepared = await world.prepare(genesisChanges(genesis), 0);
    const batch = db.batch();
    const { header, hash } = Chain.writeGenesisBlock(db, batch, genesis, genesisHash, prepared.root);
    world.write(prepared, batch);
    await batch.write();
    world.commit(prepared);
    return new Chain(db, world, genesis, genesisHash, { header, hash, certificate: null }, options);
  }

  /**
   * Adds genesis block 0 (committing to `stateRoot`) and the chain's markers to `batch`.
   * Chain.open does it for a new store; a store whose genesis state was bulk-loaded
   * (state/bulk-load.ts: benchmarks) adds them itself.
   */
  static writeGenesisBlock(
    db: Database,
    batch: DbBatch,
    genesis: Genesis,
    genesisHash: Uint8Array,
    stateRoot: Uint8Array,
  ): { header: BlockHeader; hash: Uint8Array } {
    const block = genesisBlock(genesis, stateRoot);
    const hash = blockHash(block.header);
    const store = new ChainStore(db);
    store.putGenesis(batch, genesisHash);
    store.putBlock(batch, block, hash, null, [], []);
    Chain.putValidatorSet(batch, new ValidatorSet(genesis.validators));
    return { header: block.header, hash };
  }

  /** Refuses a store that is inconsistent rather than running on it. */
  private static async recover(
    db: Database,
    store: ChainStore,
    genesis: Genesis,
    genesisHash: Uint8Array,
    path: string,
    options: ChainOptions,
  ): Promise<Chain> {
    const corrupt = (what: string) =>
      new JouleError(
        ErrorCode.STORE_CORRUPT,
        `the database at ${path} is inconsistent: ${what}. Restore it from a backup or resync into an empty data directory.`,
      );
    const version = await store.schemaVersion();
    if (version !== SCHEMA_VERSION) throw corrupt(`schema version ${version} (expected ${SCHEMA_VERSION})`);
    const height = await store.head();
    if (height === undefined) throw corrupt('no head pointer');
    const block = await store.block(height);
    if (block === undefined) throw corrupt(`the head block ${height} is missing`);
    if (block.header.height !== height || block.header.chainId !== genesis.chainId) throw corrupt(`the head block record does not match height ${height}`);
    const hash = blockHash(block.header);
    if ((await store.heightOf(hash)) !== height) throw corrupt(`the hash index does not point at block ${height}`);
    const certificate = (await store.certificate(height)) ?? null;
    if (height > 0 && certificate === null) throw corrupt(`block ${height} has no commit certificate`);
    if (certificate !== null && !equalBytes(certificate.blockHash, hash)) throw corrupt(`the certificate of block ${height} is for another block`);
    if (height > 0) {
      const parent = await store.block(height - 1);
      if (parent === undefined || !equalBytes(blockHash(parent.header), block.header.parentHash))
        throw corrupt(`block ${height - 1} does not link to block ${height}`);
    }
    let world: WorldState;
    try {
      world = await WorldState.open(db, options.state ?? {});
    } catch (e) {
      throw corrupt((e as Error).message);
    }
    try {
      if (world.version !== height) throw corrupt(`the state is at height ${world.version}, the head block at ${height}`);
      if (!equalBytes(world.root, block.header.stateRoot)) throw corrupt(`the state root does not match block ${height}`);
      const chain = new Chain(db, world, genesis, genesisHash, { header: block.header, hash, certificate }, options);
      if ((await chain.validatorSetByHash(block.header.validatorSetHash)) === undefined) throw corrupt(`the validator set of block ${height} is missing`);
      return chain;
    } catch (e) {
      await world.close();
      throw e;
    }
  }

  get head(): Head {
    return this.currentHead;
  }

  get height(): number {
    return this.currentHead.header.height;
  }

  /** The validator set certifying the next block (an emergency transition at that height overrides the state's). */
  get validators(): ValidatorSet {
    return this.transitions.get(this.height + 1) ?? this.currentValidators;
  }

  /**
   * What the block at height + 1 is built, verified and imported against (chain id, params,
   * parent, its validator set, the evidence verifier, the head state). Cached per head.
   */
  nextBlockContext(): NextBlockContext {
    this.next ??= nextBlockContext({
      chainId: this.genesis.chainId,
      params: this.genesis.params,
      evidenceRules: this.evidenceRules,
      verification: this.signatures,
      parent: this.currentHead.header,
      parentHash: this.currentHead.hash,
      parentCertificate: this.currentHead.certificate,
      validatorSet: this.currentValidators,
      transition: this.transitions.get(this.height + 1),
      world: this.world,
      validatorSets: (hash) => this.cachedValidatorSet(hash),
    });
    return this.next;
  }

  /** Every validator named by a configured transition (they must be allowed to connect). */
  transitionValidators(): Validator[] {
    return [...this.transitions.values()].flatMap((set) => [...set.validators]);
  }

  /** The set an emergency transition installs at `height`, if one does. */
  transitionAt(height: number): ValidatorSet | undefined {
    return this.transitions.get(height);
  }

  /**
   * Installs the operator's emergency transitions (node/transitions.ts). One at a height
   * this chain has passed must match what the chain did there, or the config is refused.
   */
  async setTransitions(list: readonly { height: number; validators: ValidatorSet }[]): Promise<void> {
    for (const t of list) {
      if (t.height <= this.height) {
        const at = await this.blockAt(t.height);
        if (at === undefined || !equalBytes(at.block.header.validatorSetHash, t.validators.hash)) {
          throw new JouleError(ErrorCode.CONFIG_INVALID, `the transition at height ${t.height} conflicts with the stored chain`, 'config.transitions');
        }
      }
      this.transitions.set(t.height, t.validators);
      this.setsByHash.set(toHex(t.validators.hash), t.validators);
    }
    this.next = undefined;
  }

  async commit(executed: ExecutedBlock, certificate: CommitCertificate): Promise<CommittedBlock> {
    const { block, hash } = executed;
    if (block.header.height !== this.height + 1 || !equalBytes(block.header.parentHash, this.currentHead.hash)) {
      throw new JouleError(ErrorCode.BLOCK_INVALID, `block ${block.header.height} does not extend the head ${this.height}`, 'block.header.parentHash');
    }
    if (!equalBytes(certificate.blockHash, hash)) throw new JouleError(ErrorCode.CERT_INVALID, 'certificate is for another block', 'certificate.blockHash');
    const batch = this.db.batch();
    this.store.putBlock(
      batch,
      block,
      hash,
      certificate,
      executed.result.receipts,
      executed.txs.map((t) => t.hash),
    );
    indexReadings(batch, block.header.height, executed.txs, executed.result.receipts);
    const setChange = executed.result.changes.find((c) => equalBytes(c.key, VALIDATOR_SET_KEY));
    if (setChange?.value !== undefined) Chain.putValidatorSet(batch, decodeValidators(setChange.value));
    this.world.write(executed.prepared, batch);
    await batch.write();
    this.world.commit(executed.prepared);
    this.currentHead = { header: block.header, hash, certificate };
    this.next = undefined;
    this.currentValidators = Chain.validatorsOf(this.world);
    this.setsByHash.set(toHex(this.currentValidators.hash), this.currentValidators);
    return { block, hash, certificate, txs: executed.txs, receipts: executed.result.receipts };
  }

  async blockAt(height: number): Promise<{ block: Block; hash: Uint8Array; certificate: CommitCertificate | null } | undefined> {
    if (height > this.height || height < 0) return undefined;
    const block = await this.store.block(height);
    if (block === undefined) return undefined;
    return { block, hash: blockHash(block.header), certificate: (await this.store.certificate(height)) ?? null };
  }

  /** A stored block's encoded bytes and its commit certificate, as sync serves them. */
  async certifiedBlockAt(height: number): Promise<{ blockBytes: Uint8Array; certificate: CommitCertificate } | undefined> {
    if (height > this.height || height < 1) return undefined;
    const [blockBytes, certificate] = await Promise.all([this.store.blockBytes(height), this.store.certificate(height)]);
    return blockBytes === undefined || certificate === undefined ? undefined : { blockBytes, certificate };
  }

  async blockByHash(hash: Uint8Array): Promise<{ block: Block; hash: Uint8Array; certificate: CommitCertificate | null } | undefined> {
    const height = await this.store.heightOf(hash);
    return height === undefined ? undefined : this.blockAt(height);
  }

  async transaction(hash: Uint8Array): Promise<{ tx: Tx; height: number; index: number; blockHash: Uint8Array; receipt: Receipt } | undefined> {
    const loc = await this.store.txLocation(hash);
    if (loc === undefined || loc.height > this.height) return undefined;
    const found = await this.store.transactionAt(loc.height, loc.index);
    if (found === undefined) return undefined;
    const { txBytes, header, receipt } = found;
    return { tx: decodeTx(txBytes, Number.MAX_SAFE_INTEGER), height: loc.height, index: loc.index, blockHash: blockHash(header), receipt };
  }

  /** A device's counted readings in [fromUs, toUs], ascending, at most `limit` (node/chain/readings-index.ts). */
  readings(deviceId: string, fromUs: bigint, toUs: bigint, limit: number): Promise<IndexedReading[]> {
    return readIndexedReadings(this.db, deviceId, fromUs, toUs, limit);
  }

  /**
   * `key`'s value and proof at `height` (default: the head). NOT_FOUND for a height not
   * reached; STATE_PRUNED, naming the oldest provable height, for one older than the
   * state history window (config state.historyBlocks; state.archive keeps all).
   */
  async proof(key: Uint8Array, height?: number): Promise<{ height: number; stateRoot: Uint8Array; value: Uint8Array | undefined; proof: Uint8Array }> {
    const h = height ?? this.height;
    const at = await this.blockAt(h);
    if (at === undefined) throw new JouleError(ErrorCode.NOT_FOUND, `no block at height ${h}`, 'height');
    const { root, value, proof } = await this.world.proof(key, h);
    if (!equalBytes(root, at.block.header.stateRoot)) {
      throw new JouleError(ErrorCode.STORE_CORRUPT, `the stored state root of height ${h} differs from block ${h}'s`, 'height');
    }
    return { height: h, stateRoot: at.block.header.stateRoot, value, proof };
  }

  async close(): Promise<void> {
    await this.world.close();
    await this.db.close();
  }
}
