/**
 * `npm run bench`: every figure next to the ceiling of its hardware path, measured in the
 * same run (a shared 2-core machine makes absolute numbers alone meaningless).
 *
 *   npm run bench               all of it (15 minutes or more: generating the 5,000,000-record state is most of it)
 *   npm run bench -- --quick    shorter devnet runs; state up to 1,000,000 records (not 5,000,000)
 *   npm run bench -- --only devnet4
 *   npm run bench -- --only ingress   (device readings over gRPC to the 4-validator devnet)
 */
import { parseArgs } from 'node:util';
import { runDevnetBenchmark, type LoadResult } from './devnet.ts';
import { formatEnergyBenchmarks, runEnergyBenchmarks } from './energy.ts';
import { DEFAULT_OFFER, formatIngressBenchmark, runIngressBenchmark } from './ingress.ts';
import { formatIntervalCloseBenchmark, runIntervalCloseBenchmark } from './interval-close.ts';
import { formatMempoolBenchmarks, runMempoolBenchmarks } from './mempool.ts';
import { formatStateBenchmarks, runStateBenchmarks } from './state.ts';
import { runTelemetryBenchmarks } from './telemetry.ts';
import { runVerifyBenchmarks } from './verify.ts';
import { runMarketBenchmarks } from './markets.ts';
import { runVmBenchmarks } from './vm.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const want = (name: string) => values.only === undefined || values.only.split(',').includes(name);
const quick = values.quick === true;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

function printLoad(title: string, r: LoadResult, ceiling: number, ceilingText: string, target: string): void {
  console.log(title);
  console.log(`  ceiling  ${ceilingText.padEnd(52)} ${fmt(ceiling)} tx/s`);
  console.log(
    `  finalized transfers/s (sustained)                    ${fmt(r.finalizedPerSecond)} tx/s  (${((100 * r.finalizedPerSecond) / ceiling).toFixed(0)} % of ceiling; ${target})`,
  );
  console.log(`  submit-to-final latency p50 / p99 / max               ${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.max} ms`);
  console.log(
    `  offered ${fmt(r.targetRate)}/s, sent ${fmt(r.sent)}, finalized ${fmt(r.finalized)}, rejected ${fmt(r.rejected)} ${JSON.stringify(r.rejectCodes)}, never final ${fmt(r.unfinalized)}`,
  );
}

let ed25519 = 0;
if (want('vm') || want('devnet1') || want('devnet4')) {
  const vm = await runVmBenchmarks();
  ed25519 = vm.ed25519VerifiesPerSec!;
  console.log();
}
if (want('verify')) {
  await runVerifyBenchmarks();
  console.log();
}
if (want('telemetry')) {
  await runTelemetryBenchmarks();
  console.log();
}
if (want('state')) {
  console.log(formatStateBenchmarks(await runStateBenchmarks({ quick })));
  console.log();
}
if (want('energy')) {
  console.log(formatEnergyBenchmarks(await runEnergyBenchmarks()));
  console.log();
  console.log(formatIntervalCloseBenchmark(await runIntervalCloseBenchmark()));
  console.log();
}
if (want('markets')) {
  runMarketBenchmarks();
  console.log();
}
if (want('mempool')) {
  console.log(formatMempoolBenchmarks(await runMempoolBenchmarks()));
  console.log();
}
if (want('ingress')) {
  console.log(formatIngressBenchmark(await runIngressBenchmark({ devices: 400, rate: DEFAULT_OFFER, seconds: quick ? 20 : 40 })));
  console.log();
}
if (want('devnet1')) {
  const r = await runDevnetBenchmark({ validators: 1, accounts: 200, rate: 3000, seconds: quick ? 15 : 30, blockPeriodMs: 1000 });
  printLoad(
    'devnet: 1 validator process, load from a separate process over JSON-RPC, block period 1 s',
    r,
    ed25519,
    '1 core x node:crypto Ed25519 verifies/s',
    'target 2,000',
  );
  console.log();
}
if (want('devnet4')) {
  const r = await runDevnetBenchmark({ validators: 4, accounts: 400, rate: 1500, seconds: quick ? 20 : 60, blockPeriodMs: 1000 });
  printLoad(
    'devnet: 4 validator processes on this 2-core machine, load to all four over JSON-RPC, block period 1 s',
    r,
    (2 * ed25519) / 4,
    '2 cores x Ed25519 verifies/s / 4 validators',
    'target 1,500, p99 < 3 s',
  );
}
