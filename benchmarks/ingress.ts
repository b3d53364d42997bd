/**
 * Device ingress on the 4-validator devnet: readings/s from `joule simulate devices
 * --devnet --presign` (its own OS process, streaming over gRPC) that become final, with
 * send-to-final p50 / p99, next to the ceiling measured in the same run: 2 cores x blst's
 * aggregate-verify rate per reading / (4 validators + 1 ingress verification). Peer-to-peer
 * transfers and carbon-credit retirements go to the validators meanwhile (a few a second
 * each): the figures beside say how many were included, and how many blocks carrying
 * readings carried each too. A warm-up before the measured run (the fleet reports until its
 * first interval is minted) gives the retirements their energy tokens.
 *
 * Run alone: `npx node benchmarks/ingress.ts [rate | share of the ceiling, e.g. 60%] [seconds]`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as blst from '@chainsafe/blst';
import { fromHex, toHex, utf8 } from '../core/bytes.ts';
import { decode, type Encodable, encode } from '../core/codec.ts';
import { sha256 } from '../core/hash.ts';
import { addressFromPublicKey, ed25519FromSeed, ed25519Sign, ed25519Verify, formatAddress } from '../core/keys.ts';
import type { AccountJson, BlockJson, EnergyUtxoListJson, StatusJson, TransactionJson } from '../core/rpc-json.ts';
import { readingFromWire, readingToWire } from '../core/telemetry.ts';
import { buildEnergyRetire } from '../core/tx/energy-retire.ts';
import { buildTransfer } from '../core/tx/transfer.ts';
import { TxType } from '../core/tx/types.ts';
import { devnetFileOf, writeDevnetFile } from '../cli/devnet-file.ts';
import { NodeProcess } from '../cli/node-process.ts';
import { createLocalNetwork } from '../node/home/local-network.ts';
import { READING_AGE_BUCKETS } from '../node/metrics/grpc.ts';
import { freePort } from '../test/helpers/net.ts';
import { medianPerCore } from './cpu-rate.ts';
import { slowestBlocks, type SlowBlock } from './slow-blocks.ts';
import { bucketsByStage, histogramQuantile } from './histogram.ts';
import { BLST_THREADS, coresBusy, machineCpuSeconds, threadCpuSeconds, type ThreadKind } from './thread-cpu.ts';

export interface IngressBenchResult {
  readonly offeredPerSecond: number;
  readonly sentPerSecond: number;
  readonly finalPerSecond: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** The simulator's 5-second reports within the sending window (the last one shorter): each one's p50 and p99 of the readings final in it, ms. */
  readonly windowsMs: readonly (readonly [number | null, number | null])[];
  /** blst aggregate-verify, readings a second on one core: the mean of the rates measured before and after the run, each shown too (the offer is set from the first). */
  readonly aggregateVerifyPerSecond: number;
  readonly aggregateVerifyBeforeAfter: readonly [number, number];
  readonly ceilingPerSecond: number;
  /** node:crypto Ed25519 verifies a second on one core, measured with the ceiling: the machine's speed outside blst. */
  readonly ed25519PerSecond: number;
  /** Readings a second through the canonical codec on one core, measured with the ceiling: the speed of the node's JavaScript. */
  readonly codecPerSecond: number;
  readonly blocksWithReadings: number;
  readonly blocksWithReadingsAndTransfers: number;
  readonly blocksWithReadingsAndRetirements: number;
  readonly transfersSent: number;
  readonly transfersIncluded: number;
  readonly retirementsSent: number;
  readonly retirementsIncluded: number;
  /** The run's slowest blocks: the time from each to the next block, s, and whether the interval close began or ran in it. */
  readonly slowestBlocks: readonly SlowBlock[];
  /** Validator-0's view of the measured run, from its metrics: where a reading's latency goes. */
  readonly blockIntervalS: number | null;
  /** QBFT round changes validator-0 saw over the run: each one delays every pending reading by a round timeout. */
  readonly roundChanges: number;
  readonly inclusionAgeS: Readonly<Record<string, number | null>>;
  readonly blockStageMs: Readonly<Record<string, number | null>>;
  /** Its readings' mean age on reaching each stage (accepted, batched, final), s. */
  readonly readingAgeS: Readonly<Record<string, number | null>>;
  /** The four validators' readings: p50 and p99 of their age on reaching each stage, s (from the histograms' buckets). */
  readonly readingAgeQuantilesS: Readonly<Record<string, readonly [number | null, number | null]>>;
  /** The four validators' cores busy during the sending window, by kind of thread (undefined without /proc). */
  readonly threadCores: ReadonlyMap<ThreadKind, number> | undefined;
  /** The whole machine over the same window, cores: busy, and stolen by the hypervisor (undefined without /proc). */
  readonly machineCores: { readonly busy: number; readonly steal: number } | undefined;
}

/** The validators' metrics pages (Prometheus text), fetched once per scrape: validator-0's series and every validator's histogram buckets are read off the same pages. */
async function metricsPages(metricsUrls: readonly string[]): Promise<string[]> {
  return Promise.all(metricsUrls.map(async (url) => (await fetch(`${url}/metrics`)).text()));
}

/** A Prometheus text page as series -> value, a series named `name` or `name:label-value` (the label that tells series of one metric apart). */
function seriesOf(page: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of page.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*?(?:tier|stage)="([^"]+)"[^}]*\})?(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m !== null) out.set(m[2] === undefined ? m[1]! : `${m[1]}:${m[2]}`, Number(m[3]));
  }
  return out;
}

/** The mean of a histogram series over the run: the change of its sum over the change of its count. */
function meanOver(before: Map<string, number>, after: Map<string, number>, name: string, label?: string): number | null {
  const k = (suffix: string) => (label === undefined ? `${name}_${suffix}` : `${name}_${suffix}:${label}`);
  const n = (after.get(k('count')) ?? 0) - (before.get(k('count')) ?? 0);
  return n <= 0 ? null : ((after.get(k('sum')) ?? 0) - (before.get(k('sum')) ?? 0)) / n;
}

/** meanOver for each of `labels` (series of one metric), times `scale`. */
function meansOver(before: Map<string, number>, after: Map<string, number>, name: string, labels: readonly string[], scale = 1): Record<string, number | null> {
  return Object.fromEntries(
    labels.map((l) => {
      const v = meanOver(before, after, name, l);
      return [l, v === null ? null : v * scale];
    }),
  );
}

/** The histogram of readings' ages at each stage of the ingress (node/metrics/grpc.ts), and its stages. */
const READING_AGE = 'joule_ingress_reading_age_seconds';
const READING_STAGES = ['accepted', 'batched', 'final'];

/** Peer-to-peer and carbon-credit traffic offered alongside the readings, txs a second of each. */
const TRANSFERS_PER_SECOND = 4;
const RETIREMENTS_PER_SECOND = 4;

/**
 * blst's aggregate-verify rate, readings a second on one core: n distinct keys and messages
 * under one aggregate signature, timed by CPU time (blst spreads one call over every core),
 * the median of `samples`.
 */
export function aggregateVerifyRate(n = 256, rounds = 4, samples = 5): number {
  const keys = Array.from({ length: n }, (_, i) => blst.SecretKey.fromKeygen(sha256(utf8(`joule-bench/ingress/${i}`))));
  const msgs = keys.map((_, i) => sha256(utf8(`reading ${i}`)));
  const pks = keys.map((k) => k.toPublicKey());
  const sig = blst.aggregateSignatures(keys.map((k, i) => k.sign(msgs[i]!)));
  blst.aggregateVerify(msgs, pks, sig);
  return medianPerCore(samples, n * rounds, () => {
    for (let r = 0; r < rounds; r++) if (!blst.aggregateVerify(msgs, pks, sig)) throw new Error('aggregate does not verify');
  });
}

/**
 * node:crypto Ed25519 verifies a second on one core, the median of `samples`. The ceiling
 * counts blst alone, but about half a reading's CPU is JavaScript, codecs and hashing, and
 * this shared machine's speed for that work moves on its own (Dec 3: 5,200-7,500 where
 * 11,700-12,000 is usual, while blst ran 10-15 % below its usual rate).
 */
function ed25519Rate(verifies = 2000, samples = 5): number {
  const key = ed25519FromSeed(sha256(utf8('joule-bench/ingress/ed25519')));
  const message = sha256(utf8('a transfer'));
  const signature = ed25519Sign(key.seed, message);
  return medianPerCore(samples, verifies, () => {
    for (let i = 0; i < verifies; i++) if (!ed25519Verify(key.publicKey, message, signature)) throw new Error('Ed25519 does not verify');
  });
}

/**
 * Readings a second through the canonical codec on one core (1,000 readings encoded as a
 * batch's body carries them, decoded and read back, as a peer does with every telemetry
 * batch), the median of `samples`. Ed25519 and blst are native code and have moved
 * together on this machine; the JavaScript half of a reading (codecs, objects, GC) has
 * not always moved with them, and the target is a share of blst's rate.
 */
function codecRate(readings = 1000, rounds = 40, samples = 5): number {
  const body: Encodable[] = Array.from({ length: readings }, (_, i) =>
    readingToWire({
      deviceId: `bench-meter-${i}`,
      timestampUs: 1_796_000_000_000_000n + BigInt(i),
      netEnergyWh: BigInt((i % 5000) - 2500),
      stateOfChargePercent: i % 101,
    }),
  );
  const roundTrip = (times: number) => {
    for (let r = 0; r < times; r++) {
      const back = decode(encode(body)) as Encodable[];
      for (let i = 0; i < back.length; i++) readingFromWire(back[i]!, 'reading');
    }
  };
  roundTrip(20); // optimized code, not the interpreter's: a process's first rounds run at half speed
  return medianPerCore(samples, readings * rounds, () => roundTrip(rounds));
}

async function call<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(body.error.message);
  return body.result as T;
}

/**
 * What the simulator offers: readings a second, or a share of the ceiling measured at the
 * start of the run (`{ ceilingShare: 0.6 }`). The ceiling moves with this shared
 * machine's speed (blst's rate here has ranged from 1,500 to 2,500 readings/s a core), so a
 * fixed rate can sit below the target on a fast day and far above capacity on a slow one.
 */
export type OfferedRate = number | { readonly ceilingShare: number };

/** Issue 10's target: at least this share of the ceiling final, with p99 send-to-final under this, and every block with readings carrying a transfer and a retirement. */
const TARGET = { ceilingShare: 0.6, p99Ms: 3000 } as const;

/**
 * What `npm run bench` offers: a little above the target's share, which is a floor. The offer
 * knows only the ceiling measured before the run, the ratio uses the mean of that and the one
 * after it; and a run that keeps up finals what it is offered, so an offer of exactly 60 %
 * measures 60 % less the ceiling's rise during the run, whichever way the machine's speed went.
 */
export const DEFAULT_OFFER: OfferedRate = { ceilingShare: 0.61 };

/** Whether a run met the target, and if not, which parts it missed. */
function verdict(r: IngressBenchResult): string {
  const missed: string[] = [];
  if (r.finalPerSecond < TARGET.ceilingShare * r.ceilingPerSecond) missed.push(`below ${100 * TARGET.ceilingShare} % of the ceiling`);
  if (r.p99Ms === null || r.p99Ms >= TARGET.p99Ms) missed.push(`p99 not under ${TARGET.p99Ms / 1000} s`);
  if (r.blocksWithReadingsAndTransfers < r.blocksWithReadings || r.blocksWithReadingsAndRetirements < r.blocksWithReadings)
    missed.push('a block with readings but without a transfer or a retirement');
  return missed.length === 0 ? 'met' : `not met: ${missed.join('; ')}`;
}

export async function runIngressBenchmark(opts: { devices: number; rate: OfferedRate; seconds: number }): Promise<IngressBenchResult> {
  const before = aggregateVerifyRate();
  const edBefore = ed25519Rate();
  const codecBefore = codecRate();
  const o = { ...opts, rate: typeof opts.rate === 'number' ? opts.rate : Math.round(((opts.rate.ceilingShare * 2) / 5) * before) };
  const dir = await mkdtemp(join(tmpdir(), 'joule-bench-ingress-'));
  const net = await createLocalNetwork({
    dir,
    validators: 4,
    accounts: 4,
    params: { blockPeriodMs: 1000, emptyBlockPeriodMs: 1000 },
    ports: async () => ({ p2p: await freePort(), rpc: await freePort(), metrics: await freePort(), grpc: await freePort() }),
  });
  const procs = net.nodes.map((n) => new NodeProcess(n));
  try {
    await Promise.all(procs.map((p) => p.start(60_000)));
    await writeDevnetFile(dir, devnetFileOf(net));
    const chainId = net.devnet.genesis.chainId;
    const rpc = (i: number) => net.nodes[i % net.nodes.length]!.rpcUrl;
    const cli = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
    /** Runs the simulator; `onReport` hears the seconds of each of its 5-second reports as it prints them. */
    const simulate = (rate: number, seconds: number, onReport?: (seconds: number) => void) =>
      new Promise<string>((resolve, reject) => {
        const args = [cli, 'simulate', 'devices', '--devnet', dir, '--count', String(o.devices), '--rate', String(rate), '--seconds', String(seconds)];
        const child = spawn(process.execPath, [...args, '--presign', '--json', '--report', '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        let heard = 0;
        child.stdout.on('data', (d) => {
          text += d;
          if (process.env.JOULE_BENCH_VERBOSE !== undefined) process.stderr.write(d);
          // Whole lines only: a line cut between two chunks is read when it is complete.
          const end = text.lastIndexOf('\n') + 1;
          for (const m of text.slice(heard, end).matchAll(/"event":"report","seconds":([0-9.]+)/g)) onReport?.(Number(m[1]));
          heard = Math.max(heard, end);
        });
        child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`simulator exited with ${code}: ${text}`))));
      });
    // Warm-up, not measured: the fleet registers and reports until its first interval closes,
    // which mints energy tokens to the fleet's owner (the devnet's account-0): the
    // carbon-credit traffic of the measured run retires them.
    const owner = net.devnet.accountKeys[0]!.keyPair;
    const ownerAddress = formatAddress(addressFromPublicKey(owner.publicKey));
    await simulate(o.rate, 5);
    // account-0's tokens not yet retired, in the order listed. The close mints an interval's
    // tokens over a few blocks (CLOSE_WORK_PER_BLOCK), so the list is topped up as the run
    // goes on, by whatever later closes minted.
    const tokens: { id: Uint8Array; wh: bigint }[] = [];
    const listed = new Set<string>();
    /** The heights of account-0's tokens seen: the blocks of the closes (every fleet device reports). */
    const minted = new Set<number>();
    const topUpTokens = async () => {
      let cursor: string | null = null;
      do {
        const page: EnergyUtxoListJson = await call(rpc(0), 'joule_listEnergyUtxos', [
          { owner: ownerAddress, limit: 100, ...(cursor === null ? {} : { cursor }) },
        ]);
        for (const u of page.utxos) {
          minted.add(u.height);
          if (u.frozen || BigInt(u.wh) === 0n || listed.has(u.id)) continue;
          listed.add(u.id);
          tokens.push({ id: fromHex(u.id), wh: BigInt(u.wh) });
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
    };
    const warmDeadline = Date.now() + 2 * net.devnet.genesis.params.settlementIntervalMs + net.devnet.genesis.params.settlementDelayMs;
    while (tokens.length < (o.seconds + 10) * RETIREMENTS_PER_SECOND) {
      if (Date.now() > warmDeadline) throw new Error(`the warm-up minted ${tokens.length} energy token(s) to account-0`);
      await new Promise((r) => setTimeout(r, 1000));
      await topUpTokens();
    }
    const startHeight = (await call<StatusJson>(rpc(0), 'joule_status')).height;
    // Alongside the readings, round robin over the validators: peer-to-peer transfers from
    // accounts 1-3, and carbon-credit retirements of account-0's tokens (one whole token each).
    const senders = net.devnet.accountKeys.slice(1).map((a) => ({ key: a.keyPair, nonce: 0 }));
    const sentTransfers: string[] = [];
    let k = 0;
    const transferTimer = setInterval(() => {
      const s = senders[k % senders.length]!;
      const tx = buildTransfer({ chainId, seed: s.key.seed, nonce: s.nonce++, fee: 25n, to: addressFromPublicKey(s.key.publicKey), amount: 1n });
      sentTransfers.push(`0x${toHex(tx.hash)}`);
      void call(rpc(k), 'joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`]).catch(() => {});
      k++;
    }, 1000 / TRANSFERS_PER_SECOND);
    const sentRetirements: string[] = [];
    let ownerNonce = (await call<AccountJson>(rpc(0), 'joule_getAccount', [ownerAddress])).nonce;
    let toppingUp: Promise<void> | undefined;
    const retireTimer = setInterval(() => {
      if (tokens.length - sentRetirements.length < 10 * RETIREMENTS_PER_SECOND)
        toppingUp ??= topUpTokens()
          .catch(() => {})
          .finally(() => (toppingUp = undefined));
      const t = tokens[sentRetirements.length];
      if (t === undefined) return;
      const tx = buildEnergyRetire({
        chainId,
        seed: owner.seed,
        nonce: ownerNonce++,
        fee: 25n,
        inputs: [t.id],
        wh: t.wh,
        beneficiary: addressFromPublicKey(owner.publicKey),
        purpose: 'bench',
      });
      sentRetirements.push(`0x${toHex(tx.hash)}`);
      void call(rpc(sentRetirements.length), 'joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`]).catch(() => {});
    }, 1000 / RETIREMENTS_PER_SECOND);
    const metricsUrls = net.nodes.map((n) => n.metricsUrl);
    const pagesBefore = await metricsPages(metricsUrls);
    const metricsBefore = seriesOf(pagesBefore[0]!);
    const ageBefore = bucketsByStage(pagesBefore, READING_AGE);
    /** A simulator report (its seconds) within the sending window: the last one comes as the sending stops, a moment after o.seconds. */
    const inSendingWindow = (seconds: number) => seconds <= o.seconds + 1;
    // The validators' CPU by kind of thread, from the simulator's first report (its start-up
    // behind) to its last one within the sending window: the steady state.
    const pids = procs.map((p) => p.pid!);
    type CpuReading = { at: number; cpu: Map<ThreadKind, number>; machine: ReturnType<typeof machineCpuSeconds> };
    let cpuFrom: CpuReading | undefined;
    let cpuTo: CpuReading | undefined;
    const out = await simulate(o.rate, o.seconds, (t) => {
      if (!inSendingWindow(t)) return;
      const cpu = threadCpuSeconds(pids);
      if (cpu === undefined) return;
      const reading = { at: t, cpu, machine: machineCpuSeconds() };
      if (cpuFrom === undefined) cpuFrom = reading;
      else cpuTo = reading;
    });
    const pagesAfter = await metricsPages(metricsUrls);
    const metricsAfter = seriesOf(pagesAfter[0]!);
    const ageAfter = bucketsByStage(pagesAfter, READING_AGE);
    clearInterval(transferTimer);
    clearInterval(retireTimer);
    // The tokens the run's closes minted, for the heights of the close's blocks.
    await toppingUp;
    await topUpTokens();
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = events.find((j) => j.event === 'done')!;
    // Blocks of the run: which carried readings, and which of those a transfer and a retirement too.
    const url = rpc(0);
    const head = (await call<StatusJson>(url, 'joule_status')).height;
    let withReadings = 0;
    let withTransfers = 0;
    let withRetirements = 0;
    const included = new Set<string>();
    const times = [{ height: startHeight, timestamp: (await call<BlockJson>(url, 'joule_getBlock', [startHeight, false])).timestamp }];
    for (let h = startHeight + 1; h <= head; h++) {
      const b = await call<BlockJson>(url, 'joule_getBlock', [h, true]);
      times.push({ height: h, timestamp: b.timestamp });
      const txs = b.transactions as TransactionJson[];
      for (const t of txs) included.add(t.hash);
      if (txs.some((t) => t.type === TxType.telemetryBatch)) {
        withReadings++;
        if (txs.some((t) => t.type === TxType.transfer)) withTransfers++;
        if (txs.some((t) => t.type === TxType.energyRetire)) withRetirements++;
      }
    }
    const after = aggregateVerifyRate();
    const edAfter = ed25519Rate();
    const codecAfter = codecRate();
    const rate = (before + after) / 2;
    const fig = (v: unknown) => (typeof v === 'number' ? v : null);
    // Over the sending window (the simulator's own 'done' rates also count its wait for the last finals).
    return {
      offeredPerSecond: o.rate,
      sentPerSecond: (fig(done.sent) ?? 0) / o.seconds,
      finalPerSecond: (fig(done.final) ?? 0) / o.seconds,
      p50Ms: fig(done.p50Ms),
      p99Ms: fig(done.p99Ms),
      windowsMs: events.filter((j) => j.event === 'report' && inSendingWindow(fig(j.seconds) ?? Infinity)).map((j) => [fig(j.p50Ms), fig(j.p99Ms)] as const),
      aggregateVerifyPerSecond: rate,
      aggregateVerifyBeforeAfter: [before, after],
      ceilingPerSecond: (2 * rate) / 5,
      ed25519PerSecond: (edBefore + edAfter) / 2,
      codecPerSecond: (codecBefore + codecAfter) / 2,
      blocksWithReadings: withReadings,
      blocksWithReadingsAndTransfers: withTransfers,
      blocksWithReadingsAndRetirements: withRetirements,
      slowestBlocks: slowestBlocks(times, net.devnet.genesis.params, 3, minted),
      transfersSent: sentTransfers.length,
      transfersIncluded: sentTransfers.filter((h) => included.has(h)).length,
      retirementsSent: sentRetirements.length,
      retirementsIncluded: sentRetirements.filter((h) => included.has(h)).length,
      blockIntervalS: meanOver(metricsBefore, metricsAfter, 'joule_block_interval_seconds'),
      roundChanges: (metricsAfter.get('joule_consensus_round_changes_total') ?? 0) - (metricsBefore.get('joule_consensus_round_changes_total') ?? 0),
      inclusionAgeS: meansOver(metricsBefore, metricsAfter, 'joule_mempool_tier_inclusion_age_seconds', ['grid_balancing', 'peer_to_peer', 'carbon_credit']),
      blockStageMs: meansOver(metricsBefore, metricsAfter, 'joule_consensus_block_stage_seconds', ['build', 'verify', 'commit'], 1000),
      threadCores: cpuFrom === undefined || cpuTo === undefined ? undefined : coresBusy(cpuFrom.cpu, cpuTo.cpu, cpuTo.at - cpuFrom.at),
      machineCores:
        cpuFrom?.machine === undefined || cpuTo?.machine === undefined
          ? undefined
          : {
              busy: (cpuTo.machine.busy - cpuFrom.machine.busy) / (cpuTo.at - cpuFrom.at),
              steal: (cpuTo.machine.steal - cpuFrom.machine.steal) / (cpuTo.at - cpuFrom.at),
            },
      readingAgeS: meansOver(metricsBefore, metricsAfter, READING_AGE, READING_STAGES),
      readingAgeQuantilesS: Object.fromEntries(
        READING_STAGES.map((stage) => [
          stage,
          [histogramQuantile(ageBefore.get(stage), ageAfter.get(stage), 0.5), histogramQuantile(ageBefore.get(stage), ageAfter.get(stage), 0.99)] as const,
        ]),
      ),
    };
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await rm(dir, { recursive: true, force: true });
  }
}

const fixed = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));

/** Milliseconds as seconds, one decimal. */
const inSeconds = (ms: number | null): string => fixed(ms === null ? null : ms / 1000, 1);

/** A quantile read off the buckets: past the last finite one, only that it is beyond it. */
const bucketed = (v: number | null): string => (v === Infinity ? `>${READING_AGE_BUCKETS.at(-1)}` : fixed(v, 2));

/** `name value unit` for each entry, comma-separated. */
const listed = (values: Readonly<Record<string, number | null>>, digits: number, unit: string): string =>
  Object.entries(values)
    .map(([k, v]) => `${k} ${fixed(v, digits)} ${unit}`)
    .join(', ');

/** The validators' CPU by kind of thread, against the pairings the ceiling counts per reading. */
function threadLines(r: IngressBenchResult): string[] {
  if (r.threadCores === undefined) return [];
  const total = [...r.threadCores.values()].reduce((a, b) => a + b, 0);
  const perReadingMs = (cores: number) => fixed((1000 * cores) / r.finalPerSecond, 1);
  const kinds = [...r.threadCores].map(([k, v]) => `${k} ${fixed(v, 2)}`).join(', ');
  const pairings = r.threadCores.get(BLST_THREADS)!;
  const machine =
    r.machineCores === undefined
      ? []
      : [
          `  the whole machine meanwhile: ${fixed(r.machineCores.busy, 2)} of 2 cores busy (the validators ${fixed(total, 2)}, the rest ${fixed(r.machineCores.busy - total, 2)}: the simulator, this benchmark, other processes), ${fixed(r.machineCores.steal, 2)} stolen by the hypervisor`,
        ];
  return [
    `  the 4 validators' CPU while readings flowed: ${fixed(total, 2)} of 2 cores: ${kinds}`,
    ...machine,
    `  CPU per final reading ${perReadingMs(total)} ms, of which blst pairings ${perReadingMs(pairings)} ms (the ceiling counts ${fixed(5000 / r.aggregateVerifyPerSecond, 1)} ms)`,
  ];
}

export function formatIngressBenchmark(r: IngressBenchResult): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  return [
    'device ingress: 4 validator processes on this 2-core machine, devices over gRPC from `joule simulate devices --presign`, block period 1 s',
    `  ceiling  2 cores x blst aggregate-verify ${n(r.aggregateVerifyPerSecond)} readings/s / (4 validators + 1 ingress)   ${n(r.ceilingPerSecond)} readings/s`,
    `           (blst measured before the run ${n(r.aggregateVerifyBeforeAfter[0])}, after it ${n(r.aggregateVerifyBeforeAfter[1])}: the offer comes from the first, the ratio from the mean)`,
    `  machine speed outside blst: node:crypto Ed25519 ${n(r.ed25519PerSecond)} verifies/s on one core (usually 11,700-12,000 here); JavaScript: ${n(r.codecPerSecond)} readings/s through the codec on one core, ${fixed(r.codecPerSecond / r.aggregateVerifyPerSecond, 0)} x blst's rate`,
    `  readings final/s (offered ${n(r.offeredPerSecond)}/s, sent ${n(r.sentPerSecond)}/s)         ${n(r.finalPerSecond)} readings/s  (${((100 * r.finalPerSecond) / r.ceilingPerSecond).toFixed(2)} % of ceiling; target at least ${100 * TARGET.ceilingShare} %)`,
    `  send-to-final latency p50 / p99                      ${r.p50Ms ?? '-'} / ${r.p99Ms ?? '-'} ms (target p99 < ${TARGET.p99Ms / 1000} s)`,
    `  the same by 5 s window of the run (readings final in it), s: ${r.windowsMs.map(([p50, p99]) => `${inSeconds(p50)} / ${inSeconds(p99)}`).join(', ')}`,
    `  alongside: transfers (peer_to_peer) ${r.transfersIncluded}/${r.transfersSent} included, retirements (carbon_credit) ${r.retirementsIncluded}/${r.retirementsSent} included`,
    `  blocks with readings that also carried a transfer ${r.blocksWithReadingsAndTransfers}/${r.blocksWithReadings}, a retirement ${r.blocksWithReadingsAndRetirements}/${r.blocksWithReadings}`,
    `  the target (at least ${100 * TARGET.ceilingShare} % of the ceiling final, p99 under ${TARGET.p99Ms / 1000} s, a transfer and a retirement in every block with readings): ${verdict(r)}`,
    `  the slowest blocks (time to the next one): ${r.slowestBlocks.map((b) => `${b.height} ${fixed(b.toNextS, 1)} s${b.closesInterval ? ' (the interval close begins)' : b.mintsTokens ? ' (the interval close)' : ''}`).join(', ')}`,
    `  validator-0 over the run: a block every ${fixed(r.blockIntervalS, 2)} s, ${r.roundChanges} round change(s); mempool age at inclusion ${listed(r.inclusionAgeS, 2, 's')}; block stages ${listed(r.blockStageMs, 0, 'ms')}`,
    `  validator-0's readings, mean age on reaching each stage: ${listed(r.readingAgeS, 2, 's')}`,
    `  all validators' readings, age p50 / p99 on reaching each stage: ${Object.entries(r.readingAgeQuantilesS)
      .map(([stage, [p50, p99]]) => `${stage} ${bucketed(p50)} / ${bucketed(p99)} s`)
      .join(', ')}`,
    ...threadLines(r),
  ].join('\n');
}

if (import.meta.main) {
  // A rate, or a share of the ceiling: `60%`.
  const arg = process.argv[2];
  const rate: OfferedRate = arg === undefined ? DEFAULT_OFFER : arg.endsWith('%') ? { ceilingShare: Number(arg.slice(0, -1)) / 100 } : Number(arg);
  const seconds = Number(process.argv[3] ?? 30);
  console.log(formatIngressBenchmark(await runIngressBenchmark({ devices: 400, rate, seconds })));
}
