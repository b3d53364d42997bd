import { rpc } from '../helpers/net.ts';
import type { FinalTx } from './ledger.ts';
import { rpcMany } from './rpc-batch.ts';

/**
 * The checks run after every scenario. Each returns a list of problems (empty when all
 * is well), so a failure names every node and height that is wrong, not just the first.
 */

export interface ChainView {
  readonly node: string;
  /** Blocks 1..n as the node reports them (index 0 is height 1). */
  readonly blocks: readonly { readonly hash: string; readonly stateRoot: string }[];
}

/** Heights (common to all views) where the nodes' block hash or state root differ. */
export function divergences(views: readonly ChainView[]): string[] {
  if (views.length === 0) return [];
  const top = Math.min(...views.map((v) => v.blocks.length));
  const out: string[] = [];
  for (let h = 1; h <= top; h++) {
    const ref = views[0]!.blocks[h - 1]!;
    for (const v of views.slice(1)) {
      const b = v.blocks[h - 1]!;
      if (b.hash !== ref.hash) out.push(`height ${h}: ${views[0]!.node} has block ${ref.hash}, ${v.node} has ${b.hash}`);
      else if (b.stateRoot !== ref.stateRoot)
        out.push(`height ${h}: block ${b.hash} has state root ${ref.stateRoot} on ${views[0]!.node}, ${b.stateRoot} on ${v.node}`);
    }
  }
  return out;
}

/** Every block of every node up to the lowest node's height, compared height by height. */
export async function compareChains(urls: readonly string[], names: readonly string[]): Promise<{ commonHeight: number; problems: string[] }> {
  const heights = await Promise.all(urls.map((u) => rpc<{ height: number }>(u, 'joule_status', [], 5000).then((s) => s.height)));
  const top = Math.min(...heights);
  const views = await Promise.all(
    urls.map(async (u, i) => {
      const blocks = await rpcMany<{ hash: string; stateRoot: string; height: number } | null>(
        u,
        'joule_getBlock',
        Array.from({ length: top }, (_, h) => [h + 1]),
        20_000,
      );
      const missing = blocks.findIndex((b, h) => b === null || b.height !== h + 1);
      if (missing >= 0) throw new Error(`${names[i]} reports height ${heights[i]} but has no block ${missing + 1}`);
      return { node: names[i]!, blocks: blocks as { hash: string; stateRoot: string }[] };
    }),
  );
  return { commonHeight: top, problems: divergences(views) };
}

/** Final txs (as the ledger recorded them) that a node no longer has in the same block. */
export async function lostFinalTxs(url: string, name: string, txs: ReadonlyMap<string, FinalTx>): Promise<string[]> {
  const hashes = [...txs.keys()];
  const found = await rpcMany<{ blockHash: string; blockHeight: number } | null>(
    url,
    'joule_getTransaction',
    hashes.map((h) => [h]),
    30_000,
  );
  const out: string[] = [];
  for (const [i, hash] of hashes.entries()) {
    const want = txs.get(hash)!;
    const got = found[i];
    if (got === null || got === undefined) out.push(`${name} lost tx ${hash}, final in block ${want.height} (${want.blockHash})`);
    else if (got.blockHash !== want.blockHash)
      out.push(`${name} has tx ${hash} in block ${got.blockHash} at ${got.blockHeight}, was final in ${want.blockHash} at ${want.height}`);
  }
  return out;
}

/** Equivocation seen by any node (counter since its start, and evidence included on chain); all nodes here are honest. */
export async function equivocations(urls: readonly string[], metricsUrls: readonly string[], names: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const [i, url] of urls.entries()) {
    const text = await (await fetch(`${metricsUrls[i]}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const line = text.split('\n').find((l) => l.startsWith('joule_evidence_total'));
    if (line === undefined) out.push(`${names[i]} exports no joule_evidence_total`);
    else if (Number(line.split(' ').at(-1)) !== 0) out.push(`${names[i]} observed equivocation: ${line}`);
    const onChain = await rpc<{ total: number; evidence: unknown[] }>(url, 'joule_getEvidence', [], 5000);
    if (onChain.total !== 0) out.push(`${names[i]} holds ${onChain.total} equivocation evidence record(s): ${JSON.stringify(onChain.evidence)}`);
  }
  return out;
}
