import type { FlexActivation, FlexBid, FlexIntervalResult } from '../../core/flex.ts';

/**
 * One flexibility bid, one settled activation of it and its one interval, as the flex reads
 * of rpc/ and the `joule flex` commands are tested with: aggregator 0x06.. offers bat-0 and
 * bat-1 (500 kW at 100 per MWh); dso 0x07.. activated 240 kW for one 30 s interval, 1,400 of
 * 2,000 Wh were delivered.
 */
export const aggregator = new Uint8Array(20).fill(6);
export const dso = new Uint8Array(20).fill(7);
export const bidId = new Uint8Array(32).fill(0xb1);
export const activationId = new Uint8Array(32).fill(0xa1);
export const START = 1_767_225_600_000;

export const flexBid: FlexBid = {
  aggregator,
  deviceIds: ['bat-0', 'bat-1'],
  capacityKw: 500,
  rampUpKwPerMin: 100,
  rampDownKwPerMin: 100,
  minSocPercent: 20,
  maxSocPercent: 90,
  pricePerMwh: 100_000_000n,
  availableFromMs: START - 30_000,
  availableUntilMs: START + 300_000,
  height: 5,
  reservedUntilMs: START + 30_000,
};

export const flexActivation: FlexActivation = {
  bidId,
  dso,
  aggregator,
  powerKw: 240,
  rampUpKwPerMin: 100,
  startMs: START,
  endMs: START + 30_000,
  pricePerMwh: 100_000_000n,
  activatedAtMs: START - 20_000,
  height: 9,
  status: 'settled',
  confirmedAtMs: START - 12_000,
  commandHash: new Uint8Array(32).fill(0xc1),
  escrow: 0n,
  baselineWh: -200n,
  baselineIntervals: 4,
  settledIntervals: 1,
  deliveredWh: 1400n,
  paid: 140_000n,
  penalty: 3000n,
};

export const flexInterval: FlexIntervalResult = {
  meteredWh: 1200n,
  baselineWh: -200n,
  targetWh: 2000n,
  deliveredWh: 1400n,
  payment: 140_000n,
  penaltyDue: 3000n,
  penalty: 3000n,
  height: 12,
};
