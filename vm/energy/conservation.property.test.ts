import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { certificateId, decodeCertificate, decodeEnergyUtxo, outputUtxoId, type EnergyProvenance } from '../../core/energy.ts';
import { isJouleError } from '../../core/errors.ts';
import { buildEnergyRetire } from '../../core/tx/energy-retire.ts';
import { buildEnergyTransfer } from '../../core/tx/energy-transfer.ts';
import type { Tx } from '../../core/tx.ts';
import { getDevice } from '../../state/devices.ts';
import { CERTIFICATE_RECORDS_PREFIX, UTXO_RECORDS_PREFIX } from '../../state/energy.ts';
import { StateOverlay, type StateChange } from '../../state/overlay.ts';
import { energyChain, testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { mintMeteredInterval, unfreezeInterval } from './mint.ts';

/**
 * Random sequences of mints (mintMeteredInterval, as the interval close calls it), check-meter
 * resolutions, transfers and retirements, valid and not, on a real energy chain (signed txs,
 * strict blocks). A model predicts which txs are valid; after every step the state must
 * show, per provenance, unspent + retired = minted; no id ever spent comes back; a
 * certificate never changes; every UTXO and certificate carries a minted provenance.
 */

const OWNERS = ['alice', 'bob', 'carol'] as const;
const DEVICES = [
  { id: 'pv-1', kind: 'solar' as const, owner: 'alice' },
  { id: 'wind-1', kind: 'wind' as const, owner: 'bob' },
  { id: 'bat-1', kind: 'battery' as const, owner: 'alice' },
  { id: 'ev-1', kind: 'ev-charger' as const, owner: 'carol' },
];

type Op =
  | { op: 'mint'; device: number; exportWh: number; importWh: number; frozen: boolean }
  | { op: 'resolve'; pick: number; acceptedWh: number }
  | { op: 'transfer'; sender: number; picks: number[]; shares: number[]; recipients: number[]; skew: number }
  | { op: 'retire'; sender: number; picks: number[]; retirePermille: number; skew: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('mint' as const),
      device: fc.nat(3),
      exportWh: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })),
      importWh: fc.integer({ min: 0, max: 3000 }),
      frozen: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('resolve' as const), pick: fc.nat(), acceptedWh: fc.integer({ min: 0, max: 6000 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('transfer' as const),
      sender: fc.nat(2),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      shares: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
      recipients: fc.array(fc.nat(2), { minLength: 3, maxLength: 3 }),
      skew: fc.constantFrom(0, 0, 0, 0, 1, -1),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('retire' as const),
      sender: fc.nat(2),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      retirePermille: fc.integer({ min: 1, max: 1000 }),
      skew: fc.constantFrom(0, 0, 0, 0, 1),
    }),
  },
);

const provKey = (p: EnergyProvenance) => JSON.stringify(p);

function run(ops: readonly Op[]): void {
  const c = energyChain({ accounts: { agg: ['aggregator'], alice: [], bob: [], carol: [] } });
  const acct = c.accounts as Record<string, TestKey>;
  /** Every state entry, as the chain's state holds it (a listing the MemoryState does not give). */
  const shadow = new Map<string, [Uint8Array, Uint8Array]>();
  const record = (changes: readonly StateChange[]) => {
    for (const ch of changes) {
      if (ch.value === undefined) shadow.delete(toHex(ch.key));
      else shadow.set(toHex(ch.key), [ch.key, ch.value]);
    }
  };
  const block = (tx: Tx) => record(c.block(tx).changes);
  DEVICES.forEach((d, i) =>
    record(c.register(acct.agg!, d.id, testDeviceKey(i), { kind: d.kind, owner: acct[d.owner]!.address, carbonIntensity: 20 + i }).changes),
  );

  const minted = new Map<string, bigint>();
  const everCreated: Uint8Array[] = [];
  const spent = new Set<string>();
  const certificates = new Map<string, string>();
  const nextInterval = DEVICES.map(() => 0);
  const len = c.ctx().params.settlementIntervalMs;
  const origin = 1_699_999_980_000;

  const state = () => {
    const utxos = [...shadow.values()].filter(([k]) => toHex(k).startsWith(toHex(UTXO_RECORDS_PREFIX))).map(([, v]) => decodeEnergyUtxo(v));
    const certs = [...shadow.values()]
      .filter(([k]) => toHex(k).startsWith(toHex(CERTIFICATE_RECORDS_PREFIX)))
      .map(([k, v]) => ({ key: toHex(k), raw: toHex(v), c: decodeCertificate(v) }));
    return { utxos, certs };
  };
  const unspentIds = () => state().utxos.map((u) => toHex(u.id));

  const expectTx = (tx: Tx, valid: boolean) => {
    let error: unknown;
    try {
      c.check(tx);
    } catch (e) {
      error = e;
    }
    if (error !== undefined && !isJouleError(error)) throw error;
    expect(error === undefined, error === undefined ? 'accepted a tx the model refuses' : `refused ${(error as Error).message}`).toBe(valid);
    if (valid) block(tx);
  };

  for (const o of ops) {
    const { utxos } = state();
    const byId = new Map(utxos.map((u) => [toHex(u.id), u]));
    const pickable = [...everCreated, ...[...certificates.keys()].map((k) => Uint8Array.from(Buffer.from(k.slice(4), 'hex')))];
    if (o.op === 'mint') {
      const d = DEVICES[o.device]!;
      const k = nextInterval[o.device]!++;
      const o2 = new StateOverlay(c.state);
      const m = {
        deviceId: d.id,
        intervalStartMs: origin + k * len,
        intervalEndMs: origin + (k + 1) * len,
        importWh: BigInt(o.importWh),
        exportWh: BigInt(o.exportWh),
        frozen: o.frozen,
      };
      const id = mintMeteredInterval(o2, getDevice(c.state, d.id)!, m, c.height);
      const changes = o2.changes();
      c.state.apply(changes);
      record(changes);
      expect(id !== undefined).toBe(o.exportWh > 0 || o.frozen);
      if (id !== undefined) {
        everCreated.push(id);
        const u = state().utxos.find((x) => toHex(x.id) === toHex(id))!;
        minted.set(provKey(u.provenance), (minted.get(provKey(u.provenance)) ?? 0n) + u.wh);
      }
    } else if (o.op === 'resolve') {
      const frozen = utxos.filter((u) => u.frozen);
      if (frozen.length === 0) continue;
      const u = frozen[o.pick % frozen.length]!;
      const o2 = new StateOverlay(c.state);
      unfreezeInterval(o2, u.provenance.deviceId, u.provenance.intervalStartMs, BigInt(o.acceptedWh));
      const changes = o2.changes();
      c.state.apply(changes);
      record(changes);
      const p = provKey(u.provenance);
      minted.set(p, minted.get(p)! - u.wh + BigInt(o.acceptedWh));
      if (o.acceptedWh === 0) spent.add(toHex(u.id));
    } else {
      if (pickable.length === 0) continue;
      const sender = acct[OWNERS[o.sender]!]!;
      const picked = [...new Map(o.picks.map((i) => pickable[i % pickable.length]!).map((id) => [toHex(id), id])).values()];
      const inputs = picked.map((id) => byId.get(toHex(id)));
      const total = inputs.reduce((s, u) => s + (u?.wh ?? 0n), 0n);
      const spendable =
        inputs.every((u) => u !== undefined && toHex(u.owner) === toHex(sender.address) && !u.frozen) &&
        inputs.every((u) => provKey(u!.provenance) === provKey(inputs[0]!.provenance));
      const sender0 = c.sender(sender);
      if (o.op === 'transfer') {
        if (total === 0n) continue; // nothing to split (only unknown inputs): outputs need > 0 Wh
        const weights = o.shares.map(BigInt);
        const sum = weights.reduce((a, b) => a + b, 0n);
        let wh = weights.map((w) => (total * w) / sum);
        wh[0] = wh[0]! + total - wh.reduce((a, b) => a + b, 0n) + BigInt(o.skew);
        if (wh.some((x) => x <= 0n)) wh = [total + BigInt(o.skew)];
        if (wh[0]! <= 0n) continue;
        const outputs = wh.map((x, i) => ({ owner: acct[OWNERS[o.recipients[i]!]!]!.address, wh: x }));
        const tx = buildEnergyTransfer({ ...sender0, inputs: picked, outputs });
        const valid = spendable && o.skew === 0;
        expectTx(tx, valid);
        if (valid) {
          for (const id of picked) spent.add(toHex(id));
          outputs.forEach((_, i) => everCreated.push(outputUtxoId(tx.hash, i)));
        }
      } else {
        const wh = (total * BigInt(o.retirePermille)) / 1000n + BigInt(o.skew);
        if (wh <= 0n) continue;
        const tx = buildEnergyRetire({ ...sender0, inputs: picked, wh, beneficiary: acct.carol!.address, purpose: 'property' });
        const valid = spendable && wh <= total;
        expectTx(tx, valid);
        if (valid) {
          for (const id of picked) spent.add(toHex(id));
          if (wh < total) everCreated.push(outputUtxoId(tx.hash, 0));
          const cert = state().certs.find((x) => x.key.endsWith(toHex(certificateId(tx.hash))))!;
          certificates.set(cert.key, cert.raw);
        }
      }
    }

    // ---- the invariants ----
    const now = state();
    const unspent = new Map<string, bigint>();
    for (const u of now.utxos) unspent.set(provKey(u.provenance), (unspent.get(provKey(u.provenance)) ?? 0n) + u.wh);
    const retired = new Map<string, bigint>();
    for (const x of now.certs) retired.set(provKey(x.c.provenance), (retired.get(provKey(x.c.provenance)) ?? 0n) + x.c.wh);
    // Provenance never mixed: each provenance's energy is conserved on its own, and nothing
    // carries a provenance that was never minted.
    for (const p of new Set([...unspent.keys(), ...retired.keys()])) expect(minted.has(p), `a provenance never minted: ${p}`).toBe(true);
    for (const [p, m] of minted) expect((unspent.get(p) ?? 0n) + (retired.get(p) ?? 0n), `unspent + retired = minted for ${p}`).toBe(m);
    // No UTXO spent twice: what was spent never exists again.
    const live = new Set(unspentIds());
    for (const s of spent) expect(live.has(s), `spent UTXO ${s} is back`).toBe(false);
    // Retired energy never moves: every certificate is still there, byte for byte.
    expect(now.certs.length).toBe(certificates.size);
    for (const x of now.certs) expect(certificates.get(x.key)).toBe(x.raw);
  }
}

describe('energy conservation over random sequences of mints, resolutions, transfers and retirements', () => {
  it('holds for every sequence, valid and invalid txs mixed', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 30 }), (ops) => run(ops)),
      { numRuns: 60 },
    );
  });
});
