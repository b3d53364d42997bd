import { readU64be, u64be } from '../../core/bytes.ts';
import {
  decodeBlock,
  decodeCertificate,
  encodeBlock,
  headerFromWire,
  encodeCertificate,
  receiptFromWire,
  receiptToWire,
  type Block,
  type BlockHeader,
  type CommitCertificate,
  type Receipt,
} from '../../core/block.ts';
import { decode, encode, readArray, readBytes } from '../../core/codec.ts';
import { encodedElement } from '../../core/codec-walk.ts';
import { type Database, type DbBatch, DbPrefix, dbKey, heightKey, MetaKey, metaDbKey, SCHEMA_VERSION } from '../../state/db.ts';

/** Where a committed tx sits. */
export interface TxLocation {
  readonly height: number;
  readonly index: number;
}

/**
 * Blocks, certificates, receipts, the tx index and the head pointer. Reads go to LevelDB;
 * writes only ever go into the caller's batch, so a block and everything derived from it
 * land in one atomic, fsynced write (see node/committer.ts).
 */
export class ChainStore {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  async head(): Promise<number | undefined> {
    const v = await this.db.get(metaDbKey(MetaKey.head));
    return v === undefined ? undefined : readU64be(v);
  }

  async genesisHash(): Promise<Uint8Array | undefined> {
    return this.db.get(metaDbKey(MetaKey.genesisHash));
  }

  async schemaVersion(): Promise<number | undefined> {
    const v = await this.db.get(metaDbKey(MetaKey.schemaVersion));
    return v === undefined ? undefined : readU64be(v);
  }

  async blockBytes(height: number): Promise<Uint8Array | undefined> {
    return this.db.get(heightKey(DbPrefix.block, height));
  }

  async block(height: number): Promise<Block | undefined> {
    const b = await this.blockBytes(height);
    return b === undefined ? undefined : decodeBlock(b);
  }

  async heightOf(hash: Uint8Array): Promise<number | undefined> {
    const v = await this.db.get(dbKey(DbPrefix.blockHash, hash));
    return v === undefined ? undefined : readU64be(v);
  }

  async certificate(height: number): Promise<CommitCertificate | undefined> {
    const v = await this.db.get(heightKey(DbPrefix.certificate, height));
    return v === undefined ? undefined : decodeCertificate(v);
  }

  async receipts(height: number): Promise<Receipt[] | undefined> {
    const v = await this.db.get(heightKey(DbPrefix.receipts, height));
    if (v === undefined) return undefined;
    return readArray(decode(v, 'receipts'), 'receipts').map((r, i) => receiptFromWire(r, `receipts[${i}]`));
  }

  /**
   * The tx at `index` of block `height` (its encoded bytes), the block's header and the
   * tx's receipt, without decoding the block's other txs and receipts: a lookup costs its
   * answer, not the size of the block it sits in.
   */
  async transactionAt(height: number, index: number): Promise<{ txBytes: Uint8Array; header: BlockHeader; receipt: Receipt } | undefined> {
    const [block, receipts] = await Promise.all([this.blockBytes(height), this.db.get(heightKey(DbPrefix.receipts, height))]);
    if (block === undefined || receipts === undefined) return undefined;
    const tx = encodedElement(block, [1, index], 'block');
    const receipt = encodedElement(receipts, [index], 'receipts');
    const header = encodedElement(block, [0], 'block');
    if (tx === undefined || receipt === undefined || header === undefined) return undefined;
    return {
      txBytes: readBytes(decode(tx, `block.txs[${index}]`), `block.txs[${index}]`),
      header: headerFromWire(decode(header, 'block.header'), 'block.header'),
      receipt: receiptFromWire(decode(receipt, `receipts[${index}]`), `receipts[${index}]`),
    };
  }

  async txLocation(hash: Uint8Array): Promise<TxLocation | undefined> {
    const v = await this.db.get(dbKey(DbPrefix.txIndex, hash));
    if (v === undefined) return undefined;
    return { height: readU64be(v), index: new DataView(v.buffer, v.byteOffset + 8, 4).getUint32(0) };
  }

  /** Genesis markers, written with the genesis block in the first batch. */
  putGenesis(batch: DbBatch, genesisHash: Uint8Array): void {
    batch.put(metaDbKey(MetaKey.genesisHash), genesisHash);
    batch.put(metaDbKey(MetaKey.schemaVersion), u64be(SCHEMA_VERSION));
  }

  putBlock(
    batch: DbBatch,
    block: Block,
    hash: Uint8Array,
    certificate: CommitCertificate | null,
    receipts: readonly Receipt[],
    txHashes: readonly Uint8Array[],
  ): void {
    const height = block.header.height;
    batch.put(heightKey(DbPrefix.block, height), encodeBlock(block));
    batch.put(dbKey(DbPrefix.blockHash, hash), u64be(height));
    if (certificate !== null) batch.put(heightKey(DbPrefix.certificate, height), encodeCertificate(certificate));
    batch.put(heightKey(DbPrefix.receipts, height), encode(receipts.map(receiptToWire)));
    txHashes.forEach((txHash, index) => {
      const loc = new Uint8Array(12);
      loc.set(u64be(height), 0);
      new DataView(loc.buffer).setUint32(8, index);
      batch.put(dbKey(DbPrefix.txIndex, txHash), loc);
    });
    batch.put(metaDbKey(MetaKey.head), u64be(height));
  }
}
