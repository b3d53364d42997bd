import { describe, expect, it } from 'vitest';
import { certificateId, outputUtxoId } from '../../core/energy.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { buildEnergyRetire } from '../../core/tx/energy-retire.ts';
import { buildEnergyTransfer, type EnergyOutput } from '../../core/tx/energy-transfer.ts';
import { buildGridIntensity } from '../../core/tx/grid-intensity.ts';
import type { Tx } from '../../core/tx.ts';
import { getCertificate, getGridIntensity, getLatestGridIntensity, getUtxo } from '../../state/energy.ts';
import { executeBlock } from '../executor.ts';
import { energyChain, testDeviceKey } from '../testing/energy-chain.ts';
import { mintInterval } from '../testing/energy-ledger.ts';
import type { TestKey } from '../testing/fixtures.ts';

function rejection(f: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('was not rejected');
}

function setup() {
  const c = energyChain({ accounts: { agg: ['aggregator'], alice: [], bob: [], carol: [], oracle: ['oracle'] } });
  const { agg, alice, bob, carol, oracle } = c.accounts as Record<string, TestKey>;
  c.register(agg!, 'pv-1', testDeviceKey(1), { owner: alice!.address });
  c.register(agg!, 'pv-2', testDeviceKey(2), { owner: alice!.address });
  const transfer = (who: TestKey, inputs: Uint8Array[], outputs: EnergyOutput[], offset = 0): Tx =>
    buildEnergyTransfer({ ...c.sender(who, offset), inputs, outputs });
  const retire = (who: TestKey, inputs: Uint8Array[], wh: bigint, offset = 0): Tx =>
    buildEnergyRetire({ ...c.sender(who, offset), inputs, wh, beneficiary: carol!.address, purpose: 'scope 2 claim, Q1' });
  return { c, agg: agg!, alice: alice!, bob: bob!, carol: carol!, oracle: oracle!, transfer, retire };
}

describe('energy-transfer', () => {
  it('splits a UTXO into outputs of the same provenance; the input is gone', () => {
    const { c, alice, bob, transfer } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 1000n })!;
    const tx = transfer(
      alice,
      [id],
      [
        { owner: bob.address, wh: 600n },
        { owner: alice.address, wh: 400n },
      ],
    );
    const r = c.block(tx);
    expect(r.receipts[0]).toMatchObject({ success: true });
    expect(getUtxo(c.state, id)).toBeUndefined();
    const a = getUtxo(c.state, outputUtxoId(tx.hash, 0))!;
    const b = getUtxo(c.state, outputUtxoId(tx.hash, 1))!;
    expect([a.wh, b.wh]).toEqual([600n, 400n]);
    expect(a.owner).toEqual(bob.address);
    expect(a.provenance).toEqual(b.provenance);
    expect(a.provenance).toMatchObject({ deviceId: 'pv-1', kind: 'solar', zone: 'NL', carbonIntensity: 30 });
    expect(a.height).toBe(c.height - 1);
  });

  it('merges UTXOs of identical provenance', () => {
    const { c, alice, bob, transfer } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 300n })!;
    const split = transfer(
      alice,
      [id],
      [
        { owner: alice.address, wh: 100n },
        { owner: alice.address, wh: 200n },
      ],
    );
    c.block(split);
    const merge = transfer(alice, [outputUtxoId(split.hash, 0), outputUtxoId(split.hash, 1)], [{ owner: bob.address, wh: 300n }]);
    expect(c.block(merge).receipts[0]).toMatchObject({ success: true });
    expect(getUtxo(c.state, outputUtxoId(merge.hash, 0))).toMatchObject({ wh: 300n });
  });

  it('refuses a merge of different provenance: another device, or another interval of the same', () => {
    const { c, alice, bob, transfer } = setup();
    const a = mintInterval(c, 'pv-1', 0, { exportWh: 10n })!;
    const b = mintInterval(c, 'pv-2', 0, { exportWh: 10n })!;
    const a2 = mintInterval(c, 'pv-1', 1, { exportWh: 10n })!;
    for (const other of [b, a2]) {
      const tx = transfer(alice, [a, other], [{ owner: bob.address, wh: 20n }]);
      expect(rejection(() => c.check(tx))).toMatchObject({ code: ErrorCode.ENERGY_PROVENANCE_MIXED, field: 'tx.body.inputs[1]' });
    }
  });

  it('refuses outputs that do not add up to the inputs exactly, either way', () => {
    const { c, alice, bob, transfer } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 1000n })!;
    for (const wh of [999n, 1001n]) {
      expect(rejection(() => c.check(transfer(alice, [id], [{ owner: bob.address, wh }])))).toMatchObject({
        code: ErrorCode.ENERGY_NOT_CONSERVED,
        field: 'tx.body.outputs',
      });
    }
  });

  it("refuses someone else's UTXO", () => {
    const { c, bob, transfer } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 5n })!;
    expect(rejection(() => c.check(transfer(bob, [id], [{ owner: bob.address, wh: 5n }])))).toMatchObject({
      code: ErrorCode.TX_UNAUTHORIZED,
      field: 'tx.body.inputs[0]',
    });
  });

  it('spends a UTXO once: a second spend is refused in a later block and in the same block', () => {
    const { c, alice, bob, carol, transfer } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 5n })!;
    const first = transfer(alice, [id], [{ owner: bob.address, wh: 5n }]);
    const second = transfer(alice, [id], [{ owner: carol.address, wh: 5n }], 1);
    expect(rejection(() => executeBlock(c.state, [first, second], c.ctx())).message).toMatch(/txs\[1\].*ENERGY_UTXO_UNKNOWN/s);
    c.block(first);
    expect(rejection(() => c.check(second))).toMatchObject({ code: ErrorCode.ENERGY_UTXO_UNKNOWN, field: 'tx.body.inputs[0]' });
  });

  it('refuses an id listed twice, an id never minted, and a frozen UTXO', () => {
    const { c, alice, bob, transfer } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 5n })!;
    expect(rejection(() => transfer(alice, [id, id], [{ owner: bob.address, wh: 10n }]))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.inputs[1]',
    });
    expect(rejection(() => c.check(transfer(alice, [new Uint8Array(32).fill(9)], [{ owner: bob.address, wh: 5n }])))).toMatchObject({
      code: ErrorCode.ENERGY_UTXO_UNKNOWN,
    });
    const frozen = mintInterval(c, 'pv-1', 1, { exportWh: 5n, frozen: true })!;
    expect(rejection(() => c.check(transfer(alice, [frozen], [{ owner: bob.address, wh: 5n }])))).toMatchObject({
      code: ErrorCode.ENERGY_UTXO_FROZEN,
      field: 'tx.body.inputs[0]',
    });
  });

  it('refuses zero-Wh outputs and empty lists in the body itself', () => {
    const { c, alice, bob, transfer } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 5n })!;
    expect(
      rejection(() =>
        transfer(
          alice,
          [id],
          [
            { owner: bob.address, wh: 0n },
            { owner: bob.address, wh: 5n },
          ],
        ),
      ),
    ).toMatchObject({ field: 'tx.body.outputs[0].wh' });
    expect(rejection(() => transfer(alice, [], [{ owner: bob.address, wh: 5n }]))).toMatchObject({ field: 'tx.body.inputs' });
    expect(rejection(() => transfer(alice, [id], []))).toMatchObject({ field: 'tx.body.outputs' });
  });
});

describe('energy-retire', () => {
  it('retires as a certificate with the provenance, height and time; the rest comes back as change', () => {
    const { c, alice, carol, retire } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 1000n })!;
    const tx = retire(alice, [id], 700n);
    const at = c.ctx();
    expect(c.block(tx).receipts[0]).toMatchObject({ success: true });
    const cert = getCertificate(c.state, certificateId(tx.hash))!;
    expect(cert).toMatchObject({ wh: 700n, purpose: 'scope 2 claim, Q1', height: at.height, time: at.timestamp });
    expect(cert.beneficiary).toEqual(carol.address);
    expect(cert.provenance).toMatchObject({ deviceId: 'pv-1', carbonIntensity: 30 });
    expect(getUtxo(c.state, id)).toBeUndefined();
    expect(getUtxo(c.state, outputUtxoId(tx.hash, 0))).toMatchObject({ wh: 300n, owner: alice.address, frozen: false });
  });

  it('retires exactly all: no change UTXO', () => {
    const { c, alice, retire } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 1000n })!;
    const tx = retire(alice, [id], 1000n);
    c.block(tx);
    expect(getUtxo(c.state, outputUtxoId(tx.hash, 0))).toBeUndefined();
  });

  it('retired energy never moves: its inputs are spent and a certificate id is no UTXO', () => {
    const { c, alice, bob, retire, transfer } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 100n })!;
    const tx = retire(alice, [id], 100n);
    c.block(tx);
    expect(rejection(() => c.check(transfer(alice, [id], [{ owner: bob.address, wh: 100n }])))).toMatchObject({ code: ErrorCode.ENERGY_UTXO_UNKNOWN });
    expect(rejection(() => c.check(transfer(alice, [certificateId(tx.hash)], [{ owner: bob.address, wh: 100n }])))).toMatchObject({
      code: ErrorCode.ENERGY_UTXO_UNKNOWN,
    });
    expect(rejection(() => c.check(retire(alice, [id], 100n)))).toMatchObject({ code: ErrorCode.ENERGY_UTXO_UNKNOWN });
  });

  it("refuses more Wh than the inputs hold, mixed provenance, someone else's or frozen energy", () => {
    const { c, alice, bob, retire } = setup();
    const a = mintInterval(c, 'pv-1', 0, { exportWh: 10n })!;
    const b = mintInterval(c, 'pv-2', 0, { exportWh: 10n })!;
    const f = mintInterval(c, 'pv-1', 1, { exportWh: 10n, frozen: true })!;
    expect(rejection(() => c.check(retire(alice, [a], 11n)))).toMatchObject({ code: ErrorCode.ENERGY_NOT_CONSERVED, field: 'tx.body.wh' });
    expect(rejection(() => c.check(retire(alice, [a, b], 20n)))).toMatchObject({ code: ErrorCode.ENERGY_PROVENANCE_MIXED, field: 'tx.body.inputs[1]' });
    expect(rejection(() => c.check(retire(bob, [a], 10n)))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED });
    expect(rejection(() => c.check(retire(alice, [f], 10n)))).toMatchObject({ code: ErrorCode.ENERGY_UTXO_FROZEN });
  });

  it('refuses a purpose over 256 characters and 0 Wh', () => {
    const { c, alice, carol } = setup();
    const id = mintInterval(c, 'pv-1', 0, { exportWh: 10n })!;
    const args = { ...c.sender(alice), inputs: [id], beneficiary: carol.address };
    expect(rejection(() => buildEnergyRetire({ ...args, wh: 1n, purpose: 'x'.repeat(257) }))).toMatchObject({ field: 'tx.body.purpose' });
    expect(rejection(() => buildEnergyRetire({ ...args, wh: 0n, purpose: '' }))).toMatchObject({ field: 'tx.body.wh' });
  });
});

describe('grid-intensity', () => {
  const interval = 30_000; // DEVNET_PARAMS

  it("an oracle posts a zone's intensity for an open interval; a later post replaces it", () => {
    const { c, oracle } = setup();
    const start = Math.floor(c.ctx().timestamp / interval) * interval;
    c.block(buildGridIntensity({ ...c.sender(oracle), zone: 'NL', intervalStartMs: start, carbonIntensity: 420 }));
    expect(getGridIntensity(c.state, 'NL', start)).toMatchObject({ carbonIntensity: 420, intervalStartMs: start });
    c.block(buildGridIntensity({ ...c.sender(oracle), zone: 'NL', intervalStartMs: start, carbonIntensity: 380 }));
    expect(getGridIntensity(c.state, 'NL', start)?.carbonIntensity).toBe(380);
    expect(getLatestGridIntensity(c.state, 'NL')?.carbonIntensity).toBe(380);
  });

  it("an earlier interval's post does not replace the zone's latest", () => {
    const { c, oracle } = setup();
    const start = Math.floor(c.ctx().timestamp / interval) * interval;
    c.block(buildGridIntensity({ ...c.sender(oracle), zone: 'NL', intervalStartMs: start + interval, carbonIntensity: 100 }));
    c.block(buildGridIntensity({ ...c.sender(oracle), zone: 'NL', intervalStartMs: start, carbonIntensity: 200 }));
    expect(getLatestGridIntensity(c.state, 'NL')).toMatchObject({ intervalStartMs: start + interval, carbonIntensity: 100 });
  });

  it('refuses a sender without the oracle role and an unaligned interval start', () => {
    const { c, alice, oracle } = setup();
    const start = Math.floor(c.ctx().timestamp / interval) * interval;
    expect(rejection(() => c.check(buildGridIntensity({ ...c.sender(alice), zone: 'NL', intervalStartMs: start, carbonIntensity: 1 })))).toMatchObject({
      code: ErrorCode.TX_UNAUTHORIZED,
      field: 'tx.sender',
    });
    expect(rejection(() => c.check(buildGridIntensity({ ...c.sender(oracle), zone: 'NL', intervalStartMs: start + 1, carbonIntensity: 1 })))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.intervalStartMs',
    });
    expect(rejection(() => buildGridIntensity({ ...c.sender(oracle), zone: 'NL', intervalStartMs: start, carbonIntensity: 10_001 }))).toMatchObject({
      field: 'tx.body.carbonIntensity',
    });
  });

  it('fails (included, fee paid) for an interval already closed or more than a day ahead', () => {
    const { c, oracle } = setup();
    const now = c.ctx().timestamp;
    const closed = Math.floor(now / interval) * interval - 2 * interval;
    const far = Math.floor((now + 86_400_000) / interval) * interval + interval;
    const r = c.block(
      buildGridIntensity({ ...c.sender(oracle), zone: 'NL', intervalStartMs: closed, carbonIntensity: 1 }),
      buildGridIntensity({ ...c.sender(oracle, 1), zone: 'NL', intervalStartMs: far, carbonIntensity: 1 }),
    );
    expect(r.receipts.map((x) => [x.success, x.code])).toEqual([
      [false, ErrorCode.TX_INVALID_FIELD],
      [false, ErrorCode.TX_INVALID_FIELD],
    ]);
    expect(getGridIntensity(c.state, 'NL', closed)).toBeUndefined();
  });
});
