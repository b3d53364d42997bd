import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalNetwork } from '../node/home/local-network.ts';
import { CliError } from './rpc-client.ts';

/**
 * A devnet's manifest, `devnet.json` in its directory: its chain id and each validator's
 * endpoints, written by `joule devnet` (and by the benchmarks and tests that start a
 * network of their own) and read by `joule simulate devices|market --devnet DIR`.
 */

export interface DevnetNode {
  name: string;
  rpc: string;
  grpc: string;
  p2p: string;
  metrics: string;
  home: string;
  /** Its process while `joule devnet` runs it (null: not started). */
  pid: number | null;
}

export interface DevnetFile {
  chainId: string;
  nodes: DevnetNode[];
}

const manifestPath = (dir: string): string => join(dir, 'devnet.json');

/** The manifest of a network written by node/home/local-network.ts, its nodes not started. */
export function devnetFileOf(net: LocalNetwork): DevnetFile {
  return {
    chainId: net.devnet.genesis.chainId,
    nodes: net.nodes.map((n) => ({
      name: n.name,
      rpc: n.rpcUrl,
      grpc: `127.0.0.1:${n.ports.grpc}`,
      p2p: n.p2p,
      metrics: `${n.metricsUrl}/metrics`,
      home: n.home,
      pid: null,
    })),
  };
}

/** Writes `file` as the manifest of the devnet in `dir`; returns its path. */
export async function writeDevnetFile(dir: string, file: DevnetFile): Promise<string> {
  const path = manifestPath(dir);
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
  return path;
}

/** The manifest of the devnet in `dir`; INVALID_PARAMS naming --devnet when there is none. */
export function readDevnetFile(dir: string): DevnetFile {
  try {
    return JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as DevnetFile;
  } catch (e) {
    throw new CliError('INVALID_PARAMS', `cannot read ${manifestPath(dir)} (${(e as Error).message}): is it a devnet directory?`, 'devnet');
  }
}
