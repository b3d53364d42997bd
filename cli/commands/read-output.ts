import { RpcClient, resolveRpcUrl } from '../rpc-client.ts';

/** What every read command takes: the node to ask, and whether to print JSON. */
export interface ReadOptions {
  rpc?: string;
  json?: boolean;
}

/** The RPC client of a read command (`--rpc`, else JOULE_RPC, else the local default). */
export const readClient = (opts: ReadOptions): RpcClient => new RpcClient(resolveRpcUrl(opts.rpc));
/** Human output: one record's lines. */
export const printLines = (lines: string[]): void => void process.stdout.write(`${lines.join('\n')}\n`);
/** `--json` output: one JSON document per line. */
export const printJson = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v)}\n`);
/** A µs timestamp (never negative: readings' and commands') as ISO 8601 to the µs. */
export const isoMicros = (us: bigint): string => new Date(Number(us / 1000n)).toISOString().replace('Z', `${String(us % 1000n).padStart(3, '0')}Z`);
