import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { isJouleError, type JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { getAccount } from '../state/accounts.ts';
import { BlockExecutor, executeBlock } from './executor.ts';
import { endBlockHooks } from './registry.ts';
import { blockArb, type Block } from './testing/chain-ops.ts';
import { getSupply } from '../state/supply.ts';
import { energyProblems, issuedBy, lockedProblems, recordMinted, structureProblems, totalMoney } from './testing/chain-invariants.ts';
import type { BuildContext } from './testing/chain-build.ts';
import { buildOp, makeTx } from './testing/chain-txs.ts';
import { chainWorld, targets, type World } from './testing/chain-world.ts';
import { loadAsTheNode } from './testing/staged-load.ts';
import type { BlockContext, BlockResult, EndBlockHook } from './types.ts';
import type { Receipt } from '../core/block.ts';

/**
 * The whole VM under an adversary, block after block, executed as the node executes it.
 *
 * The adversary chooses each block: how far the clock moves (a second, or past gate
 * closures, interval closes, confirmation deadlines, the cooling-off, margin deadlines and
 * the dispute window), and up to a dozen txs of every type the VM has (vm/registry.ts),
 * valid or hostile: a wrong sender, a wrong nonce, a low fee, another chain, a spoiled
 * signature, a replay, zero or huge amounts, unknown or mutated ids, closed markets,
 * the other side of a market, devices of others, rogue proofs of possession, rotated-out
 * keys, impossible energy (vm/testing/chain-ops.ts, chain-txs.ts). Each run also picks the
 * hooks' work budgets: the production ones, or a few units a block, so queues outlast
 * blocks and hooks stop and resume at every item.
 *
 * Each block runs three ways: the builder (BlockExecutor.tryApply over the candidates) on
 * an in-memory state, with no access guard; the builder again on what the node loads for
 * those candidates (vm/testing/staged-load.ts: nothing else is readable) in strict mode;
 * and block import (executeBlock) of the included txs on what the node loads for them, in
 * strict mode. After every block:
 * - no StateAccessError, STATE_UNDECLARED_READ, HOOK_FAILED or other exception, ever;
 * - the three runs agree: the same txs included, the same receipts, events, changes, fees;
 * - money: balance + locked over every account in the state changes by what the block's
 *   currency-mint and currency-burn txs say, and nothing else (fees move to the proposer;
 *   escrow, collateral, disputes, flex escrow, the insurance pool and imbalance accounts
 *   are all in accounts);
 * - locked: each account's locked funds are what the records that lock them hold
 *   (chain-invariants.ts lockedByRecords);
 * - energy: per provenance (device, interval), the Wh in UTXOs plus the Wh retired equal
 *   what the interval's close minted (or its check-meter resolution accepted);
 * - structure: no order in the book of a cleared market, indexes in step with their
 *   records, nothing naming a record gone.
 *
 * JOULE_CHAIN_RUNS and JOULE_CHAIN_BLOCKS give more runs and longer chains; the seed is
 * fixed (DEFAULT_SEED) unless JOULE_CHAIN_SEED names another or `random`; a failure prints
 * its seed and path, which JOULE_CHAIN_SEED and JOULE_CHAIN_PATH replay.
 */

const RUNS = Number(process.env.JOULE_CHAIN_RUNS ?? 12);
const BLOCKS = Number(process.env.JOULE_CHAIN_BLOCKS ?? 60);
const MAX_OPS = 12;

/** The registry's hooks with at most `units` work units a block each (undefined: as registered). */
function hooksWith(units: number | undefined): readonly EndBlockHook[] | undefined {
  if (units === undefined) return undefined;
  return endBlockHooks().map((h) => ({ ...h, workPerBlock: Math.min(h.workPerBlock, units) }));
}

/** A canonical text of anything a block returns (bytes as hex, bigints as decimal), to compare runs exactly. */
function canon(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v));
}
const verdictText = (r: Receipt | JouleError): string => (isJouleError(r) ? `refused ${r.code} ${r.field ?? ''}: ${r.message}` : canon(r));

interface Sim {
  readonly w: World;
  readonly hooks: readonly EndBlockHook[] | undefined;
  readonly history: Tx[];
  readonly minted: Map<string, bigint>;
  readonly seen: Map<string, number>;
}

const count = (sim: Sim, what: string) => sim.seen.set(what, (sim.seen.get(what) ?? 0) + 1);

function fail(height: number, what: string, detail: string): never {
  throw new Error(`block ${height}: ${what}\n${detail}`);
}

function compare(height: number, what: string, a: string, b: string): void {
  if (a === b) return;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  fail(height, `${what} differ`, `in-memory: ...${a.slice(Math.max(0, i - 200), i + 300)}\nstaged:    ...${b.slice(Math.max(0, i - 200), i + 300)}`);
}

async function step(sim: Sim, block: Block): Promise<void> {
  const { w } = sim;
  const { c } = w;
  if (block.advanceMs > 0) c.advance(block.advanceMs);
  const ctx: BlockContext = { ...c.ctx(), proposer: w.validators[c.height % w.validators.length]!.validator.address };
  const state = c.state;
  const included = new Map<string, number>();
  const x: BuildContext = {
    w,
    state,
    targets: targets(state),
    params: ctx.params,
    height: ctx.height,
    now: ctx.timestamp,
    history: sim.history,
    nonceOf: (a) => getAccount(state, a).nonce + (included.get(toHex(a)) ?? 0),
  };
  const opts = sim.hooks === undefined ? {} : { endBlockHooks: sim.hooks };

  // 1. The builder on the whole in-memory state, no guard: which candidates get in, and the block.
  const dry = new BlockExecutor(state, ctx, { ...opts, strictAccess: false });
  const candidates: Tx[] = [];
  const verdicts: string[] = [];
  const txs: Tx[] = [];
  for (const [op, built] of block.ops.flatMap((op) => buildOp(x, op).map((b) => [op, b] as const))) {
    const tx = makeTx(x, op, built);
    if (tx === undefined) continue;
    const r = dry.tryApply(tx);
    candidates.push(tx);
    verdicts.push(verdictText(r));
    if (isJouleError(r)) {
      count(sim, `${tx.type}:refused ${r.code}`);
      continue;
    }
    txs.push(tx);
    included.set(toHex(tx.from), (included.get(toHex(tx.from)) ?? 0) + 1);
    count(sim, `${tx.type}:${r.success ? 'ok' : r.code}`);
  }
  const result = dry.finish();
  const expected = canon(result);
  const verified = new Set(txs.map((t) => toHex(t.hash)));
  const strict = { ...opts, strictAccess: true, verified: (h: Uint8Array) => verified.has(toHex(h)) };

  // 2. The builder again, on what the node loads for the candidates, strict.
  const built = new BlockExecutor(await loadAsTheNode(state, candidates, ctx), ctx, strict);
  candidates.forEach((tx, i) => compare(ctx.height, `verdicts on candidate ${i} (type ${tx.type})`, verdicts[i]!, verdictText(built.tryApply(tx))));
  compare(ctx.height, 'built blocks', expected, canon(built.finish()));

  // 3. Block import of the included txs, on what the node loads for them, strict.
  const imported: BlockResult = executeBlock(await loadAsTheNode(state, txs, ctx), txs, ctx, strict);
  compare(ctx.height, 'imported blocks', expected, canon(imported));

  const before = totalMoney(state);
  state.apply(result.changes);
  c.height++;
  sim.history.push(...txs);
  if (process.env.JOULE_CHAIN_DEBUG !== undefined)
    for (const e of result.events) if (e.type === 'market-cleared') console.log(ctx.height, JSON.stringify(e.attributes));
  for (const e of [...result.events, ...result.receipts.flatMap((r) => r.events)]) count(sim, `event:${e.type}`);

  const after = totalMoney(state);
  const issued = issuedBy(result.receipts);
  if (after !== before + issued)
    fail(ctx.height, 'money not conserved', `before ${before}, issued ${issued}, after ${after} (off by ${after - before - issued})`);
  // The supply record (what bounds mints) is exactly the money there is, and within 2^64-1.
  const supply = getSupply(state);
  if (supply !== after) fail(ctx.height, 'supply record wrong', `record ${supply}, money ${after}`);
  recordMinted(state, sim.minted);
  const problems = [...lockedProblems(state), ...energyProblems(state, sim.minted), ...structureProblems(state)];
  if (problems.length > 0) fail(ctx.height, 'invariants broken', problems.join('\n'));
}

/** The seed of the default run (JOULE_CHAIN_SEED: another, or `random`). */
const DEFAULT_SEED = 20_261_202;

const seenAll = new Map<string, number>();
const REACHED = [
  'interval-closed',
  'interval-frozen',
  'interval-resolved',
  'market-cleared',
  'trade-settled',
  'over-delivery',
  'settlement-reversed',
  'agreement-collateral',
  'agreement-slot-settled',
  'flex-activated',
  'flex-lapsed',
  'command-interval-settled',
  'energy-transfer',
  'energy-retire',
  'device-flagged',
  'governance-vote',
];

async function run(units: number | undefined, blocks: readonly Block[]): Promise<void> {
  const sim: Sim = { w: chainWorld(), hooks: hooksWith(units), history: [], minted: new Map(), seen: new Map() };
  recordMinted(sim.w.c.state, sim.minted);
  for (const block of blocks) await step(sim, block);
  for (const [k, v] of sim.seen) seenAll.set(k, (seenAll.get(k) ?? 0) + v);
}

describe('the whole VM under an adversary, executed as the node executes it', () => {
  it('never fails a block, runs the same staged and in memory, and conserves money and energy', async () => {
    // A fixed seed unless told otherwise: the run and its coverage check below are the same on
    // every machine (CI never meets an unlucky draw); JOULE_CHAIN_SEED=random explores others.
    const asked = process.env.JOULE_CHAIN_SEED;
    const seed = asked === 'random' ? undefined : asked === undefined ? DEFAULT_SEED : Number(asked);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<number | undefined>(undefined, 1, 2, 3, 5), fc.array(blockArb(MAX_OPS), { minLength: BLOCKS, maxLength: BLOCKS }), run),
      {
        numRuns: RUNS,
        ...(seed === undefined ? {} : { seed, ...(process.env.JOULE_CHAIN_PATH === undefined ? {} : { path: process.env.JOULE_CHAIN_PATH }) }),
        endOnFailure: process.env.JOULE_CHAIN_SHRINK === undefined,
        reporter: (out) => {
          if (!out.failed) return;
          const e = out.errorInstance;
          throw new Error(
            `seed ${out.seed}, path ${out.counterexamplePath}: ${e instanceof Error ? (e.message.startsWith('block ') ? e.message : e.stack) : String(e)}`,
          );
        },
      },
    );
    if (process.env.JOULE_CHAIN_COVERAGE !== undefined)
      console.log(
        [...seenAll]
          .sort()
          .map(([k, v]) => `${k} ${v}`)
          .join('\n'),
      );
    // The paths the invariants are about were taken (the rarest, agreement slots settled and flex lapses, a few times in a default run; another seed may miss one).
    expect(REACHED.filter((e) => !seenAll.has(`event:${e}`))).toEqual([]);
  }, 600_000);
});
