import { describe } from 'vitest';
import { shortBudget } from './short-budget.ts';

describe('fuzz, short budget: gossip topics and JSON-RPC (npm run fuzz runs them as long as asked)', () => {
  shortBudget(['gossip-txs', 'gossip-consensus', 'gossip-blocks', 'rpc']);
});
