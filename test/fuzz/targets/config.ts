import { createTransition, parseTransition, transitionToJson } from '../../../node/chain/transitions.ts';
import { defaultConfig, parseConfigText, type NodeConfig } from '../../../node/home/config.ts';
import { FUZZ_CHAIN_ID, fuzzValidator } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { jsonInputs, text } from '../mutate-json.ts';

/** Sections of config.json whose keys are checked one by one (a typo must not fall back to a default silently). */
const SECTIONS = ['p2p', 'rpc', 'metrics', 'grpc', 'mempool', 'log', 'verify'] as const;

/** Keys of `input` (and of its sections) that are not fields of the config: accepted, they would be ignored. */
function ignoredKeys(input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [];
  const schema = defaultConfig('x') as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(input)) {
    if (!Object.hasOwn(schema, k)) out.push(k);
    else if ((SECTIONS as readonly string[]).includes(k)) {
      const section = (input as Record<string, unknown>)[k];
      const known = schema[k] as Record<string, unknown>;
      if (typeof section === 'object' && section !== null) for (const s of Object.keys(section)) if (!Object.hasOwn(known, s)) out.push(`${k}.${s}`);
    }
  }
  return out;
}

/**
 * A node home's config.json as `joule start` reads it (node/home/config.ts parseConfigText),
 * with its emergency transitions parsed as the node does at start (node/chain/transitions.ts
 * parseTransition: members' keys, proofs of possession, signatures). Every problem is a
 * typed CONFIG_INVALID (or a key/address error naming the field); an accepted config reads
 * again the same when written back out; and no key of an accepted file is silently ignored.
 */
export const configTarget: FuzzTarget = {
  name: 'config',
  description: 'config.json: node/home/config.ts parseConfigText and node/chain/transitions.ts parseTransition',
  quickRuns: 800,
  reaches: ['accepted', 'accepted with transitions'],
  codes: ['CONFIG_INVALID', 'ADDRESS_INVALID'],
  // A transition of a thousand members verifies a thousand proofs of possession.
  limitMs: 10_000,
  setup() {
    const members = [0, 1].map((i) => {
      const v = fuzzValidator(i, 'transition');
      return { name: v.name, identity: v.identity, bls: v.consensus };
    });
    const transition = transitionToJson(createTransition(FUZZ_CHAIN_ID, 5, members));
    const full: NodeConfig = {
      ...defaultConfig('validator-0'),
      p2p: { listen: '/ip4/0.0.0.0/tcp/26600', peers: ['/ip4/127.0.0.1/tcp/26610/p2p/12D3KooWExample'], allowPeers: ['12D3KooWExample'], maxConnections: 32 },
      log: { level: 'debug', file: 'node.log' },
      verify: { workers: 2 },
      transitions: [transition],
    };
    const corpus = [{}, { name: 'n', role: 'observer' }, full, { transitions: [transition] }];
    return {
      inputs: jsonInputs(corpus),
      run(input) {
        const body = text(input);
        const config = parseConfigText(body, 'config.json');
        const ignored = ignoredKeys(JSON.parse(body));
        if (ignored.length > 0) throw violation(`accepted a config whose keys ${JSON.stringify(ignored)} are not fields: they are ignored silently`);
        const again = parseConfigText(JSON.stringify(config), 'again');
        if (JSON.stringify(again) !== JSON.stringify(config)) throw violation('an accepted config reads differently when written back out');
        const transitions = config.transitions.map((t, i) => parseTransition(t, FUZZ_CHAIN_ID, `transitions[${i}]`));
        for (const t of transitions) {
          const back = parseTransition(JSON.parse(JSON.stringify(transitionToJson(t))), FUZZ_CHAIN_ID, 'again');
          if (JSON.stringify(transitionToJson(back)) !== JSON.stringify(transitionToJson(t)))
            throw violation('an accepted transition reads differently when written back out');
        }
        return transitions.length > 0 ? 'accepted with transitions' : 'accepted';
      },
    };
  },
};
