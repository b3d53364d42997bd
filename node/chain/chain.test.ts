import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { u64be } from '../../core/bytes.ts';
import { addressFromPublicKey } from '../../core/keys.ts';
import { ValidatorSet } from '../../core/validators.ts';
import { genesisHash, generateDevnet } from '../../genesis/index.ts';
import { Database, DbPrefix, heightKey, MetaKey, metaDbKey, dbKey } from '../../state/db.ts';
import { accountKey } from '../../state/keys.ts';
import { verifyState } from '../../state/verify-state.ts';
import { Chain } from './chain.ts';
import { appendEmptyBlocks } from '../testing/chain.ts';

const devnet = generateDevnet({ validators: 1, accounts: 2, genesisTime: 1_700_000_000_000 });
const hash = genesisHash(devnet.genesis);

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempStore(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'joule-chain-'));
  made.push(dir);
  return dir;
}

/** A store with `blocks` committed empty blocks, closed. */
async function storeWith(blocks: number): Promise<string> {
  const dir = await tempStore();
  const chain = await Chain.open(dir, devnet.genesis, hash);
  await appendEmptyBlocks(chain, devnet, blocks);
  await chain.close();
  return dir;
}

async function tamper(dir: string, f: (db: Database) => Promise<void>): Promise<void> {
  const db = await Database.open(dir);
  await f(db);
  await db.close();
}

describe('Chain: opening a store', () => {
  it('initialises genesis, then reopens at the same head', async () => {
    const dir = await storeWith(3);
    const chain = await Chain.open(dir, devnet.genesis, hash);
    expect(chain.height).toBe(3);
    expect(chain.head.certificate?.height).toBe(3);
    await chain.close();
  });

  it('refuses a store of another chain', async () => {
    const dir = await storeWith(1);
    const other = generateDevnet({ validators: 1, accounts: 0, genesisTime: 1_700_000_000_000 });
    await expect(Chain.open(dir, other.genesis, genesisHash(other.genesis))).rejects.toMatchObject({ code: 'STORE_MISMATCH' });
  });

  const corruptions: [string, (db: Database) => Promise<void>, RegExp][] = [
    ['a head pointer past the last block', (db) => db.batch().put(metaDbKey(MetaKey.head), u64be(9)).write(), /head block 9 is missing/],
    ['a missing head certificate', (db) => db.batch().del(heightKey(DbPrefix.certificate, 2)).write(), /no commit certificate/],
    ['a broken parent link', (db) => db.batch().del(heightKey(DbPrefix.block, 1)).write(), /does not link/],
    ['a state root record that differs from the head block', (db) => db.batch().del(metaDbKey(MetaKey.stateRoot)).write(), /state/],
    [
      'a missing hash index entry',
      async (db) => {
        for await (const [k] of db.iterate(DbPrefix.blockHash)) await db.batch().del(k).write();
      },
      /hash index/,
    ],
  ];
  for (const [what, damage, message] of corruptions) {
    it(`refuses to run on ${what}, saying what is wrong`, async () => {
      const dir = await storeWith(2);
      await tamper(dir, damage);
      const err = await Chain.open(dir, devnet.genesis, hash).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'STORE_CORRUPT' });
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe('Chain: opening does not re-hash the state', () => {
  // Issue 7: start time must not grow with the state, so a damaged flat value is not found
  // by opening (which trusts the root committed in the same batch) but by verify-state.
  it('a flat value changed outside a block: the node opens; verify-state reports it', async () => {
    const dir = await storeWith(2);
    await tamper(dir, async (db) => {
      const key = dbKey(DbPrefix.stateValue, accountKey(addressFromPublicKey(devnet.accountKeys[0]!.keyPair.publicKey)));
      await db
        .batch()
        .put(key, new Uint8Array([0x94, 0, 1, 0, 0]))
        .write();
    });
    const chain = await Chain.open(dir, devnet.genesis, hash);
    expect(chain.height).toBe(2);
    await chain.close();
    await tamper(dir, async (db) => {
      await expect(verifyState(db)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    });
  });
});

describe('Chain: the next-block context', () => {
  it('describes height + 1 and is taken afresh after a commit and after transitions are set', async () => {
    const dir = await tempStore();
    const chain = await Chain.open(dir, devnet.genesis, hash);
    try {
      const first = chain.nextBlockContext();
      expect(first).toBe(chain.nextBlockContext()); // cached while the head stays
      expect(first).toMatchObject({
        chainId: devnet.genesis.chainId,
        params: devnet.genesis.params,
        height: 1,
        parentCertificate: null,
        transition: undefined,
      });
      expect(first.parentHash).toEqual(chain.head.hash);
      expect(first.validatorSet.hash).toEqual(chain.validators.hash);
      expect(first.validatorSets(first.validatorSet.hash)).toBe(first.validatorSet);

      await appendEmptyBlocks(chain, devnet, 1);
      const second = chain.nextBlockContext();
      expect(second.height).toBe(2);
      expect(second.parentHash).toEqual(chain.head.hash);
      expect(second.parentCertificate).toEqual(chain.head.certificate);

      const other = generateDevnet({ validators: 2, accounts: 0, genesisTime: 1_700_000_000_000 });
      const set = new ValidatorSet(other.genesis.validators);
      await chain.setTransitions([{ height: 2, validators: set }]);
      const third = chain.nextBlockContext();
      expect(third).not.toBe(second);
      expect(third.transition).toBe(set);
      expect(third.validatorSet).toBe(set);
    } finally {
      await chain.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
