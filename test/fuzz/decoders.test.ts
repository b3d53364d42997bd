import { describe } from 'vitest';
import { shortBudget } from './short-budget.ts';

describe('fuzz, short budget: wire decoders and the consensus machine (npm run fuzz runs them as long as asked)', () => {
  shortBudget(['tx', 'block', 'consensus-message', 'consensus-machine']);
});
