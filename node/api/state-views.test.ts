import { describe, expect, it } from 'vitest';
import { certificateId, encodeCertificate, encodeEnergyUtxo, mintedUtxoId, type Certificate, type EnergyUtxo } from '../../core/energy.ts';
import { encodeMarket, encodeSettlement, encodeTrade } from '../../core/market.ts';
import { encodeGovernorSet, encodeReversal } from '../../core/reversal.ts';
import { certificateKey, energyUtxoKey, marketId, marketKey, ReversalBucket, reversalBucketKey } from '../../core/state-keys.ts';
import { clearedMarket, executedReversal, governors, INTERVAL, settledTrade } from '../../rpc/testing/market-fixtures.ts';
import { settlementKey, tradeKey } from '../../state/markets.ts';
import { GOVERNORS_KEY, reversalKey } from '../../state/reversals.ts';
import { decodeStateValue } from './state-views.ts';

const provenance = { deviceId: 'pv-1', kind: 'solar' as const, zone: 'NL', intervalStartMs: 0, intervalEndMs: 900_000, carbonIntensity: 30 };
const utxo: EnergyUtxo = { id: mintedUtxoId('pv-1', 0), owner: new Uint8Array(20).fill(1), wh: 10n, provenance, frozen: false, height: 3 };
const cert: Certificate = {
  id: certificateId(new Uint8Array(32)),
  beneficiary: new Uint8Array(20).fill(2),
  purpose: '',
  wh: 10n,
  provenance,
  height: 4,
  time: 5,
};

describe('decodeStateValue of energy records', () => {
  it('decodes a UTXO and a certificate under their own keys', () => {
    expect(decodeStateValue(energyUtxoKey(utxo.id), encodeEnergyUtxo(utxo))).toEqual({ kind: 'energy-utxo', utxo });
    expect(decodeStateValue(certificateKey(cert.id), encodeCertificate(cert))).toEqual({ kind: 'certificate', certificate: cert });
  });

  it("refuses a record under another record's key (a proof of one must not pass for another)", () => {
    expect(decodeStateValue(energyUtxoKey(mintedUtxoId('pv-1', 900_000)), encodeEnergyUtxo(utxo))).toBeUndefined();
    expect(decodeStateValue(certificateKey(utxo.id), encodeCertificate(cert))).toBeUndefined();
  });
});

describe('decodeStateValue of market records', () => {
  const m = marketId('NL', INTERVAL);
  const trade = settledTrade.trade;
  const settlement = settledTrade.settlement!;
  it('decodes a market, a trade and a settlement under their own keys', () => {
    expect(decodeStateValue(marketKey('NL', INTERVAL), encodeMarket(clearedMarket))).toEqual({ kind: 'market', market: clearedMarket });
    expect(decodeStateValue(tradeKey(m, trade.seq), encodeTrade(trade))).toEqual({ kind: 'trade', trade });
    expect(decodeStateValue(settlementKey(m, 3), encodeSettlement(settlement))).toEqual({ kind: 'settlement', seq: 3, settlement });
  });

  it("refuses a market or a trade under another one's key", () => {
    expect(decodeStateValue(marketKey('NL', INTERVAL + 900_000), encodeMarket(clearedMarket))).toBeUndefined();
    expect(decodeStateValue(tradeKey(m, trade.seq + 1), encodeTrade(trade))).toBeUndefined();
  });
});

describe('decodeStateValue of reversal records', () => {
  const governorSet = { threshold: 2, governors };
  it('decodes the governor set and a reversal under their own keys', () => {
    expect(decodeStateValue(GOVERNORS_KEY, encodeGovernorSet(governorSet))).toEqual({ kind: 'governor-set', governors: governorSet });
    expect(decodeStateValue(reversalKey(executedReversal), encodeReversal(executedReversal))).toEqual({ kind: 'reversal', reversal: executedReversal });
  });

  it("refuses a reversal under another settlement's key, and the governors under a longer key", () => {
    const r = executedReversal;
    for (const other of [
      { ...r, seq: 1 },
      { ...r, zone: 'DE' },
      { ...r, intervalStartMs: INTERVAL + 900_000 },
    ])
      expect(decodeStateValue(reversalKey(other), encodeReversal(r))).toBeUndefined();
    // seq 2^32 would wrap to 0 in the key's u32: it must not pass for the reversal of trade 0.
    expect(decodeStateValue(reversalKey(r), encodeReversal({ ...r, seq: 2 ** 32 }))).toBeUndefined();
    expect(decodeStateValue(reversalKey(r), encodeGovernorSet(governorSet))).toBeUndefined();
    expect(decodeStateValue(reversalBucketKey(ReversalBucket.governors, new Uint8Array([0])), encodeGovernorSet(governorSet))).toBeUndefined();
  });
});
