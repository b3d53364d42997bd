/** Public surface of mempool/: the pool itself and its types. */
export { Mempool, type AddMeta, type AddResult, type MempoolLimits, type MempoolStats, type SelectLimits } from './mempool.ts';
