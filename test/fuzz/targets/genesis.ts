import { equalBytes } from '../../../core/bytes.ts';
import {
  assembleGenesis,
  genesisFileText,
  genesisHash,
  genesisToJson,
  paramsToJson,
  parseGenesis,
  parseJsonText,
  validateGenesis,
} from '../../../genesis/index.ts';
import { DEFAULT_PARAMS } from '../../../core/params.ts';
import { cardToJson, makeCard, parseCard } from '../../../node/home/card.ts';
import { FUZZ_CHAIN_ID, FUZZ_GENESIS_TIME, fuzzNetwork, fuzzValidator } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { jsonInputs, text } from '../mutate-json.ts';

/**
 * genesis.json as `joule start`, `joule init` and `joule genesis validate` read it
 * (genesis/: JSON, schema, keys on their curves, proofs of possession, balances): every
 * problem is a typed GENESIS_INVALID, and an accepted genesis written back out
 * (genesisFileText) reads again as the same chain (same hash, same JSON). validateGenesis
 * agrees with parseGenesis on what is valid.
 */
export const genesisTarget: FuzzTarget = {
  name: 'genesis',
  description: 'genesis files: genesis/ parseJsonText + parseGenesis (validate.ts, params.ts), validateGenesis',
  quickRuns: 300,
  reaches: ['accepted'],
  codes: ['GENESIS_INVALID'],
  // 1024 validators (the most a genesis may have): a proof of possession each, in each of three parses.
  limitMs: 15_000,
  setup() {
    const corpus = [fuzzNetwork(1, 1), fuzzNetwork(4, 3), fuzzNetwork(2, 0, 'joule-other')].map((n) => genesisToJson(n.genesis));
    return {
      inputs: jsonInputs(corpus),
      run(input) {
        const body = text(input);
        const g = parseGenesis(parseJsonText(body, 'genesis.json'));
        if (validateGenesis(JSON.parse(body)).length > 0) throw violation('validateGenesis finds problems in a genesis parseGenesis accepts');
        const again = parseGenesis(JSON.parse(genesisFileText(g)));
        if (!equalBytes(genesisHash(again), genesisHash(g))) throw violation('genesis written back out has another hash');
        if (JSON.stringify(genesisToJson(again)) !== JSON.stringify(genesisToJson(g))) throw violation('genesis written back out reads differently');
        return 'accepted';
      },
    };
  },
};

/**
 * Validator cards of the genesis ceremony (node/home/card.ts), which arrive from the other
 * operators: every problem is a typed CARD_INVALID, and an accepted card's JSON reads
 * again as the same card.
 */
function cardsJson() {
  return [0, 1].map((i) => {
    const v = fuzzValidator(i);
    const host = i === 0 ? '/ip4/203.0.113.7/tcp/26600' : '/dns4/validator-1.example.org/tcp/26610';
    return cardToJson(makeCard({ chainId: FUZZ_CHAIN_ID, name: v.name, identitySeed: v.identity.seed, blsSecret: v.consensus.secretKey, p2p: host }));
  });
}

export const cardTarget: FuzzTarget = {
  name: 'card',
  description: 'validator cards of the genesis ceremony: node/home/card.ts parseCard',
  quickRuns: 400,
  reaches: ['accepted'],
  codes: ['CARD_INVALID'],
  setup() {
    return {
      inputs: jsonInputs(cardsJson()),
      run(input) {
        let json: unknown;
        try {
          json = JSON.parse(text(input));
        } catch {
          return 'not JSON'; // readCardJson's CARD_INVALID
        }
        const card = parseCard(json, 'fuzz.card');
        const again = parseCard(JSON.parse(JSON.stringify(cardToJson(card))), 'again');
        if (JSON.stringify(cardToJson(again)) !== JSON.stringify(cardToJson(card))) throw violation('an accepted card reads differently when written back out');
        return 'accepted';
      },
    };
  },
};

/**
 * The coordinator's step of the genesis ceremony (genesis/assemble.ts): verified cards plus
 * a params file and an accounts file (the input here, as `{ "params": ..., "accounts": ... }`).
 * Every problem is a typed GENESIS_INVALID; an accepted genesis is one every node loads, and
 * the same whatever the order of the cards.
 */
export const assembleTarget: FuzzTarget = {
  name: 'assemble',
  description: 'genesis ceremony: genesis/assemble.ts assembleGenesis from cards, a params file and an accounts file',
  quickRuns: 150,
  reaches: ['assembled'],
  codes: ['GENESIS_INVALID'],
  setup() {
    const cards = cardsJson().map((json, i) => {
      const card = parseCard(json, `card-${i}.json`);
      return { source: `card-${i}.json`, chainId: card.chainId, validator: card.validator };
    });
    const accounts = genesisToJson(fuzzNetwork(1, 3).genesis).accounts.slice(1);
    const corpus = [
      { params: paramsToJson(DEFAULT_PARAMS), accounts },
      { accounts: [...accounts, { address: cards[0]!.validator.address, balance: '5' }] },
      {},
    ];
    const assemble = (doc: Record<string, unknown>, order: typeof cards) =>
      assembleGenesis({
        chainId: FUZZ_CHAIN_ID,
        genesisTime: FUZZ_GENESIS_TIME,
        params: doc.params,
        paramsSource: 'params.json',
        accounts: doc.accounts,
        accountsSource: 'accounts.json',
        validators: order,
        validatorBalance: 1000n,
      });
    return {
      inputs: jsonInputs(corpus),
      run(input) {
        let doc: unknown;
        try {
          doc = JSON.parse(text(input));
        } catch {
          return 'not JSON';
        }
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not an object';
        const a = assemble(doc as Record<string, unknown>, cards);
        const b = assemble(doc as Record<string, unknown>, [...cards].reverse());
        if (!equalBytes(genesisHash(a.genesis), genesisHash(b.genesis))) throw violation('the order of the cards changes the genesis');
        const loaded = parseGenesis(JSON.parse(JSON.stringify(a.json)));
        if (!equalBytes(genesisHash(loaded), genesisHash(a.genesis))) throw violation('the assembled genesis loads as another chain');
        return 'assembled';
      },
    };
  },
};
