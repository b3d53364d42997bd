/**
 * Benchmark fixture: a node data directory holding a chain at height 0 whose genesis state
 * has `records` account records (plus the devnet genesis' own), written directly
 * (state/bulk-load.ts: batched writes and one tree build), and the account keys the
 * benchmark blocks update. Not used by the node.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { generateDevnet, genesisFileText, genesisHash, type Genesis } from '../genesis/index.ts';
import { Chain } from '../node/chain/chain.ts';
import { genesisChanges } from '../node/chain/genesis-state.ts';
import { bulkLoadState, type BulkProgress } from '../state/bulk-load.ts';
import { Database } from '../state/db.ts';
import { accountKey } from '../state/keys.ts';

export const VALUE_BYTES = 40;

/**
 * Account number `i`'s state key: an address of scattered bytes (a multiplicative hash of
 * i, so keys do not arrive in LevelDB's order, as real addresses do not), cheaper than
 * SHA-256 when generating millions. The tree's positions are sha256(key) either way.
 */
export function benchKey(i: number): Uint8Array {
  const address = new Uint8Array(ADDRESS_LENGTH);
  const view = new DataView(address.buffer);
  let x = i + 1;
  for (let off = 0; off < ADDRESS_LENGTH; off += 4) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ Math.imul(x + off, 0x297a2d39);
    view.setUint32(off, x >>> 0);
  }
  view.setUint32(ADDRESS_LENGTH - 4, i); // distinct for distinct i
  return accountKey(address);
}

/** A deterministic 40-byte value for record `i` at block `b` (b = 0: the generated state). */
export function benchValue(i: number, b: number): Uint8Array {
  const v = new Uint8Array(VALUE_BYTES);
  const view = new DataView(v.buffer);
  view.setUint32(0, i);
  view.setUint32(4, b);
  v.fill(0xab, 8);
  return v;
}

/** Writes the store into `dir` (a LevelDB directory) and `dir`.genesis.json; returns the genesis file path. */
export async function generateStore(dir: string, records: number, onProgress?: (p: BulkProgress) => void): Promise<{ genesisFile: string; genesis: Genesis }> {
  const { genesis } = generateDevnet({ validators: 1, accounts: 0, genesisTime: 1_700_000_000_000 });
  const extra = genesisChanges(genesis).map((c) => ({ key: c.key, value: c.value! }));
  const db = await Database.open(dir, { writeBufferBytes: 64 * 1024 * 1024 });
  try {
    const root = await bulkLoadState(
      db,
      records + extra.length,
      (i) => (i < records ? { key: benchKey(i), value: benchValue(i, 0) } : extra[i - records]!),
      onProgress,
    );
    const batch = db.batch();
    Chain.writeGenesisBlock(db, batch, genesis, genesisHash(genesis), root);
    await batch.write();
  } finally {
    await db.close();
  }
  // LevelDB replays its log on open: open once here so the node's open is measured after
  // a clean shutdown (a log of at most the node's own write buffer), not after this load.
  await (await Database.open(dir)).close();
  const genesisFile = join(`${dir}.genesis.json`);
  writeFileSync(genesisFile, genesisFileText(genesis));
  return { genesisFile, genesis };
}
