import type { FuzzTarget } from '../harness.ts';

/**
 * Every fuzz target by name, loaded on demand (a target's process imports only what it
 * fuzzes). The order is the order `npm run fuzz` runs them in.
 */
const TARGETS: Readonly<Record<string, () => Promise<FuzzTarget>>> = {
  tx: async () => (await import('./tx.ts')).txTarget,
  block: async () => (await import('./block.ts')).blockTarget,
  'consensus-message': async () => (await import('./consensus-message.ts')).consensusMessageTarget,
  'consensus-machine': async () => (await import('./consensus-machine.ts')).consensusMachineTarget,
  'gossip-txs': async () => (await import('./gossip-txs.ts')).gossipTxsTarget,
  'gossip-consensus': async () => (await import('./gossip-consensus.ts')).gossipConsensusTarget,
  'gossip-blocks': async () => (await import('./gossip-blocks.ts')).gossipBlocksTarget,
  rpc: async () => (await import('./rpc.ts')).rpcTarget,
  keystore: async () => (await import('./keystore.ts')).keystoreTarget,
  genesis: async () => (await import('./genesis.ts')).genesisTarget,
  card: async () => (await import('./genesis.ts')).cardTarget,
  assemble: async () => (await import('./genesis.ts')).assembleTarget,
  config: async () => (await import('./config.ts')).configTarget,
};

/** Targets that fail on purpose (the harness's own tests); run only when named. */
const SELFTEST = ['selftest-crash', 'selftest-hang', 'selftest-memory'];

export const TARGET_NAMES: readonly string[] = Object.keys(TARGETS);

/** A target by name, the self-test targets included; undefined for an unknown name. */
export async function loadTarget(name: string): Promise<FuzzTarget | undefined> {
  const load = TARGETS[name];
  if (load !== undefined && Object.hasOwn(TARGETS, name)) return load();
  if (SELFTEST.includes(name)) return (await import('./selftest.ts')).SELFTEST_TARGETS.find((t) => t.name === name);
  return undefined;
}
