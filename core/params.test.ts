import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, DEVNET_PARAMS, energyParamProblems, PRODUCTION_ENERGY_PARAMS } from './params.ts';

describe('energy parameters', () => {
  it('default to the documents: 15-minute intervals in production, 30 s on the devnet, 2 %, 2 and 4 missed, 10 %', () => {
    expect(DEFAULT_PARAMS).toMatchObject({
      settlementIntervalMs: 900_000,
      meterAccuracyPermille: 20,
      missedIntervalsDerate: 2,
      missedIntervalsFlag: 4,
      derateBps: 1000,
    });
    expect(DEVNET_PARAMS.settlementIntervalMs).toBe(30_000);
    expect(energyParamProblems(PRODUCTION_ENERGY_PARAMS)).toEqual([]);
    expect(energyParamProblems(DEVNET_PARAMS)).toEqual([]);
  });

  it('name each parameter out of range, and the rules between them', () => {
    const p = PRODUCTION_ENERGY_PARAMS;
    expect(energyParamProblems({ ...p, settlementIntervalMs: 999 }).map(([k]) => k)).toEqual(['settlementIntervalMs']);
    expect(energyParamProblems({ ...p, meterAccuracyPermille: 1001 }).map(([k]) => k)).toEqual(['meterAccuracyPermille']);
    expect(energyParamProblems({ ...p, derateBps: 1.5 }).map(([k]) => k)).toEqual(['derateBps']);
    expect(energyParamProblems({ ...p, settlementDelayMs: 900_001 }).map(([k]) => k)).toEqual(['settlementDelayMs']);
    expect(energyParamProblems({ ...p, maxReadingSkewMs: 900_001 }).map(([k]) => k)).toEqual(['maxReadingSkewMs']);
    expect(energyParamProblems({ ...p, missedIntervalsFlag: 2 })).toEqual([['missedIntervalsFlag', 'must be greater than missedIntervalsDerate (2)']]);
  });
});
