/**
 * Load generator, run as its own OS process so it does not share an event loop with the
 * nodes: pre-signs transfers from many accounts, sends them through JSON-RPC batches to
 * the given endpoints at a target rate, and watches newBlocks over WebSocket to time each
 * tx from submit to final. Prints one JSON line of results.
 *
 *   node benchmarks/loadgen.ts --keys DIR/keys --rpc URL[,URL...] --rate 3000 --seconds 30
 *
 * Like a real client's connection pool, it keeps at most `--inflight` requests open to each
 * endpoint (each on its own connection): past that it waits, so the rate it sends is what
 * the nodes take, and it stays within the RPC port's connections per address.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { toHex } from '../core/bytes.ts';
import { addressFromPublicKey } from '../core/keys.ts';
import { decryptKeySync } from '../core/keystore.ts';
import { buildTransfer } from '../core/tx/transfer.ts';

const { values } = parseArgs({
  options: {
    keys: { type: 'string' },
    rpc: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '30' },
    batch: { type: 'string', default: '100' },
    inflight: { type: 'string', default: '32' },
  },
});
const rpcUrls = (values.rpc ?? '').split(',').filter(Boolean);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const batchSize = Number(values.batch);
const maxInFlight = Number(values.inflight);

async function call<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as T;
}

const keyFiles = readdirSync(values.keys!).filter((f) => /^account-\d+\.key$/.test(f));
const accounts = keyFiles.map((f) => decryptKeySync(JSON.parse(readFileSync(join(values.keys!, f), 'utf8')), undefined));
const chainId = (await call<{ result: { chainId: string } }>(rpcUrls[0]!, { jsonrpc: '2.0', id: 1, method: 'joule_status', params: [] })).result.chainId;

// Pre-sign everything: the measurement is of the chain, not of this process's signing.
const total = rate * seconds;
const perAccount = Math.ceil(total / accounts.length);
const queues: { bytes: string; hash: string }[][] = [];
for (const [i, a] of accounts.entries()) {
  const nonce = (
    await call<{ result: { nonce: number } }>(rpcUrls[i % rpcUrls.length]!, { jsonrpc: '2.0', id: 1, method: 'joule_getAccount', params: [a.address] })
  ).result.nonce;
  const to = addressFromPublicKey(accounts[(i + 1) % accounts.length]!.publicKey);
  const q: { bytes: string; hash: string }[] = [];
  for (let k = 0; k < perAccount; k++) {
    const tx = buildTransfer({ chainId, seed: a.secret, nonce: nonce + k, fee: 100n, to, amount: 1n });
    q.push({ bytes: `0x${toHex(tx.bytes)}`, hash: `0x${toHex(tx.hash)}` });
  }
  queues.push(q);
}

const submittedAt = new Map<string, number>();
const latencies: number[] = [];
let finalized = 0;
let rejected = 0;
const rejectCodes = new Map<string, number>();
let firstSubmit = 0;
let lastFinal = 0;

// Finality: every node commits the same blocks; watch one.
const ws = new WebSocket(`${rpcUrls[0]!.replace('http', 'ws')}/ws`);
await new Promise<void>((resolve, reject) => {
  ws.once('open', () => resolve());
  ws.once('error', reject);
});
ws.on('message', (data) => {
  const msg = JSON.parse(String(data)) as { method?: string; params?: { result: { transactions: string[] } } };
  if (msg.method !== 'joule_subscription') return;
  const now = performance.now();
  for (const h of msg.params!.result.transactions) {
    const t = submittedAt.get(h);
    if (t === undefined) continue;
    submittedAt.delete(h);
    latencies.push(now - t);
    finalized++;
    lastFinal = now;
  }
});
ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_subscribe', params: ['newBlocks'] }));

// Send in ticks of 50 ms; each account's txs go to one endpoint, in nonce order.
const tickMs = 50;
const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
let cursor = 0;
let sent = 0;
const start = performance.now();
firstSubmit = start;
const inflight = rpcUrls.map(() => new Set<Promise<void>>());
while (sent < total && performance.now() - start < seconds * 1000) {
  const tickStart = performance.now();
  const byEndpoint = new Map<number, { bytes: string; hash: string }[]>();
  for (let n = 0; n < perTick && sent < total; n++) {
    const i = cursor++ % accounts.length;
    const tx = queues[i]!.shift();
    if (tx === undefined) continue;
    const e = i % rpcUrls.length;
    const list = byEndpoint.get(e) ?? [];
    list.push(tx);
    byEndpoint.set(e, list);
    sent++;
  }
  for (const [e, list] of byEndpoint) {
    for (let off = 0; off < list.length; off += batchSize) {
      const chunk = list.slice(off, off + batchSize);
      while (inflight[e]!.size >= maxInFlight) await Promise.race(inflight[e]!);
      const now = performance.now();
      for (const tx of chunk) submittedAt.set(tx.hash, now);
      const p = call<{ error?: { data?: { code: string } } }[]>(
        rpcUrls[e]!,
        chunk.map((tx, k) => ({ jsonrpc: '2.0', id: k, method: 'joule_sendRawTransaction', params: [tx.bytes] })),
      )
        .then((answers) => {
          for (const [k, a] of answers.entries()) {
            if (a.error !== undefined) {
              rejected++;
              submittedAt.delete(chunk[k]!.hash);
              const code = a.error.data?.code ?? 'RPC';
              rejectCodes.set(code, (rejectCodes.get(code) ?? 0) + 1);
            }
          }
        })
        .catch(() => {
          rejected += chunk.length;
        })
        .finally(() => inflight[e]!.delete(p));
      inflight[e]!.add(p);
    }
  }
  const spent = performance.now() - tickStart;
  if (spent < tickMs) await new Promise((r) => setTimeout(r, tickMs - spent));
}
await Promise.all(inflight.flatMap((s) => [...s]));
const sendSeconds = (performance.now() - start) / 1000;
// Let the tail finalize.
const drainUntil = performance.now() + 15_000;
while (submittedAt.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 100));
ws.close();

latencies.sort((a, b) => a - b);
const pct = (p: number) => (latencies.length === 0 ? null : Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!));
const window = (lastFinal - firstSubmit) / 1000;
console.log(
  JSON.stringify({
    targetRate: rate,
    sent,
    rejected,
    rejectCodes: Object.fromEntries(rejectCodes),
    finalized,
    unfinalized: submittedAt.size,
    sendSeconds: Number(sendSeconds.toFixed(2)),
    finalizedPerSecond: window > 0 ? Math.round(finalized / window) : 0,
    latencyMs: { p50: pct(50), p99: pct(99), max: pct(100) },
  }),
);
process.exit(0);
