import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ChainParams } from '../../core/params.ts';
import { waitFor } from '../helpers/net.ts';
import { compareChains, equivocations, lostFinalTxs } from './checker.ts';
import { FaultCluster } from './fault-cluster.ts';
import { FinalityLedger } from './ledger.ts';
import { TransferLoad } from './load.ts';
import { HeightMonitor } from './monitor.ts';

/**
 * Block period 500 ms (so "2 s + one block period" is 2.5 s), empty blocks as often, and
 * a round-0 timeout of 1.5 s (it must exceed the empty-block period; see genesis/params.ts).
 */
export const FAULT_PARAMS: Partial<ChainParams> = { blockPeriodMs: 500, emptyBlockPeriodMs: 500, requestTimeoutMs: 1500 };

/**
 * Longest a node cut off (or paused) for 20-30 s may take to be back at the head after the
 * heal: reconnecting (the p2p dialer retries a lost static peer at most every 10 s, +20 %
 * jitter) plus syncing the blocks it missed.
 */
export const CATCH_UP_MS = 20_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One figure a scenario measured, printed at the end of the file's run. */
export interface Measurement {
  readonly scenario: string;
  readonly what: string;
  readonly value: number;
  readonly unit: string;
}

/**
 * A fault cluster of 4 validators under transfer load, with the height monitor and the
 * finality ledger running, shared by the scenarios of one test file. `check()` is the
 * after-every-scenario checker.
 */
export class FaultHarness {
  readonly cluster: FaultCluster;
  readonly monitor: HeightMonitor;
  readonly ledger: FinalityLedger;
  readonly load: TransferLoad;
  readonly measurements: Measurement[] = [];
  /** Nodes whose RPC may be read now (not paused); the ledger reads from these. */
  private readable: number[];
  private scenarioStart = Date.now();

  private constructor(cluster: FaultCluster) {
    this.cluster = cluster;
    const urls = cluster.nodes.map((_, i) => cluster.url(i));
    this.readable = urls.map((_, i) => i);
    this.monitor = new HeightMonitor(cluster.size, (i) => cluster.status(i, 500).then((s) => ({ height: s.height, peers: s.peerCount })));
    this.ledger = new FinalityLedger(urls, () => this.readable);
    this.load = new TransferLoad({
      chainId: cluster.net.devnet.genesis.chainId,
      urls,
      keys: cluster.net.devnet.accountKeys.map((a) => a.keyPair),
      ledger: this.ledger,
    });
  }

  static async start(opts: { accounts?: number } = {}): Promise<FaultHarness> {
    const cluster = await FaultCluster.create({ validators: 4, accounts: opts.accounts ?? 8, params: FAULT_PARAMS });
    const h = new FaultHarness(cluster);
    try {
      await cluster.start();
      h.monitor.start();
      h.ledger.start();
      await cluster.settle();
      h.load.start();
    } catch (e) {
      await h.stop();
      throw e;
    }
    return h;
  }

  get all(): number[] {
    return this.cluster.nodes.map((_, i) => i);
  }

  get blockPeriodMs(): number {
    return this.cluster.params.blockPeriodMs;
  }

  others(...nodes: number[]): number[] {
    return this.all.filter((i) => !nodes.includes(i));
  }

  /**
   * Node i's height asked now. Taken right after a cut, it bounds what the node can still
   * finalise without a quorum: one more block at most (its commit seals may have been on
   * the wire); a monitor sample from before the cut can be a block or two behind under load.
   */
  async heightNow(i: number): Promise<number> {
    return (await this.cluster.status(i, 2000)).height;
  }

  /** Where load goes and which nodes are read (a paused node's RPC would only time out). */
  route(opts: { load: readonly number[]; readable?: readonly number[] }): void {
    this.load.setTargets(opts.load);
    this.readable = [...(opts.readable ?? this.all)];
  }

  /** Starts a scenario from a settled cluster; returns the settled height. */
  async begin(): Promise<number> {
    this.route({ load: this.all });
    const h = await this.cluster.settle();
    this.scenarioStart = Date.now();
    return h;
  }

  record(scenario: string, what: string, value: number, unit = 'ms'): void {
    this.measurements.push({ scenario, what, value, unit });
    console.log(`[faults] ${scenario}: ${what} = ${value} ${unit}`);
  }

  /** Records how long after `since` every node was connected to all the others again (waiting up to 30 s). */
  async recordReconnect(scenario: string, since: number): Promise<void> {
    const t = await waitFor('all nodes reconnected', () => this.monitor.allConnected(this.all, this.cluster.size - 1, since), 30_000, 100).catch(
      () => undefined,
    );
    if (t !== undefined) this.record(scenario, 'heal to every node connected to all others (p2p)', t - since);
    else this.record(scenario, 'nodes still not all reconnected, seconds after the heal', Math.round((Date.now() - since) / 1000), 's');
  }

  /**
   * The `windowMs` windows of [from, to] in which none of `nodes` finalised a block (none:
   * finality went on throughout, not in one burst).
   */
  finalisedThroughout(nodes: readonly number[], from: number, to: number, windowMs: number): string[] {
    const gaps: string[] = [];
    for (let t = from; t + windowMs <= to; t += windowMs) {
      const before = Math.max(...nodes.map((i) => this.monitor.maxHeightOf(i, 0, t) ?? 0));
      const after = Math.max(...nodes.map((i) => this.monitor.maxHeightOf(i, t, t + windowMs) ?? 0));
      if (after <= before) gaps.push(`nothing finalised by nodes ${nodes.join(',')} in [${t - from}, ${t - from + windowMs}] ms (height stayed ${before})`);
    }
    return gaps;
  }

  /**
   * The checker run after every scenario: waits for a tx reported final since the scenario
   * began (the load ran), and until all nodes agree on a head holding it again, then
   * compares hash and state root at every height on every node, and reports any height that
   * went down, any fork the ledger saw, any equivocation, and any tx reported final during
   * the scenario that a node no longer has.
   */
  async check(): Promise<string[]> {
    // A scenario that failed half-way may have left a cut, a paused or a dead node behind.
    await this.cluster.sandbox.heal();
    for (const node of this.cluster.nodes) {
      if (node.isPaused) node.resume();
      if (!node.running) await node.start(60_000);
    }
    this.route({ load: this.all });
    // A scenario that ends right after a heal (the 2|2 split) may be checked before the first
    // block carrying the txs held back during the cut is final: give the load time to show.
    await waitFor(
      'a tx reported final since the scenario began',
      () => (this.ledger.txsLearnt(this.scenarioStart).size > 0 ? true : undefined),
      30_000,
      250,
    ).catch(() => undefined);
    // Every node must hold the newest block a learnt tx is in before the txs are looked up.
    const finals = this.ledger.txsLearnt(this.scenarioStart);
    const newestTxBlock = Math.max(0, ...[...finals.values()].map((t) => t.height));
    const names = this.cluster.nodes.map((n) => n.name);
    const urls = this.all.map((i) => this.cluster.url(i));
    await waitFor(
      'every node to answer, be within one block of the others and hold every learnt tx',
      async () => {
        const hs = await this.cluster.heights();
        if (hs.some((h) => h === undefined)) return undefined;
        const lowest = Math.min(...(hs as number[]));
        return Math.max(...(hs as number[])) - lowest <= 1 && lowest >= newestTxBlock ? true : undefined;
      },
      90_000,
      250,
    );
    const { problems } = await compareChains(urls, names);
    problems.push(...this.monitor.regressions(names, this.scenarioStart), ...this.ledger.conflictsSince(this.scenarioStart));
    problems.push(
      ...(await equivocations(
        urls,
        this.cluster.nodes.map((n) => n.spec.metricsUrl),
        names,
      )),
    );
    if (finals.size === 0) problems.push('no transaction was reported final during the scenario: the load did not run');
    for (const [i, url] of urls.entries()) problems.push(...(await lostFinalTxs(url, names[i]!, finals)));
    this.record('checker', `txs reported final during the scenario, each found on all ${urls.length} nodes`, finals.size, 'txs');
    return problems;
  }

  async stop(): Promise<void> {
    await this.load.stop();
    await this.ledger.stop();
    await this.monitor.stop();
    await this.cluster.destroy();
    if (this.measurements.length > 0)
      console.log(`[faults] measured:\n${this.measurements.map((m) => `  ${m.scenario}: ${m.what} = ${m.value} ${m.unit}`).join('\n')}`);
  }
}

/**
 * Registers the hooks of a test file whose scenarios share one harness: started once, the
 * checker after every scenario, stopped at the end. Returns the accessor the scenarios
 * call first. When the harness cannot start (not root, no `ip`...), every scenario fails
 * with that reason; vitest would only mark them skipped if the hook itself threw.
 */
export function useFaultHarness(): () => FaultHarness {
  let harness: FaultHarness | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      harness = await FaultHarness.start();
    } catch (e) {
      failure = e;
    }
  }, 180_000);
  afterAll(async () => {
    await harness?.stop();
  }, 60_000);
  afterEach(async () => {
    if (harness === undefined) return;
    const problems = await harness.check();
    expect(problems, 'after-scenario check: one chain, no regression, no fork, no equivocation, nothing final lost').toEqual([]);
  }, 180_000);
  return () => {
    if (harness === undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    return harness;
  };
}
