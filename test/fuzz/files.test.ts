import { describe } from 'vitest';
import { shortBudget } from './short-budget.ts';

describe('fuzz, short budget: key files, genesis, cards and config (npm run fuzz runs them as long as asked)', () => {
  shortBudget(['keystore', 'genesis', 'card', 'assemble', 'config']);
});
