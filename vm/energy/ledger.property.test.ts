import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { certificateId, decodeCertificate, decodeEnergyUtxo, mintedUtxoId, outputUtxoId } from '../../core/energy.ts';
import { isJouleError } from '../../core/errors.ts';
import { buildDeviceRekey } from '../../core/tx/device-rekey.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildDeviceStatus } from '../../core/tx/device-status.ts';
import { buildEnergyRetire } from '../../core/tx/energy-retire.ts';
import { buildEnergyTransfer } from '../../core/tx/energy-transfer.ts';
import type { Tx } from '../../core/tx.ts';
import { getDevice } from '../../state/devices.ts';
import { CERTIFICATE_RECORDS_PREFIX, getUtxo, UTXO_RECORDS_PREFIX } from '../../state/energy.ts';
import { skippedDevices } from '../../core/telemetry.ts';
import { getIntervalTotals, getMeterCursor, intervalTotalsOf, listIntervalTotals } from '../../state/telemetry.ts';
import { BlockExecutor } from '../executor.ts';
import { devicePop, energyChain, registerBody, type EnergyChain } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { LedgerModel, OUT_OF_LIMIT_WH, provenanceText, type BatchVerdict, type ExpectedMint, type ModelReading } from '../testing/ledger-model.ts';
import { batchTx, reading } from '../testing/telemetry.ts';
import { blockArb, keyNo, OPERATORS, OWNERS, ROGUE, SCENARIO, slotId, type Block, type Op } from '../testing/ledger-ops.ts';

/**
 * The energy ledger as a whole, over random blocks on a real chain (signed txs, strict
 * access, the end-of-block interval close that mints): device registrations and re-keys,
 * status changes, telemetry batches of the operator aggregator, time that closes
 * intervals, energy transfers and retirements, valid and not (replayed, reordered,
 * impossible or wrongly signed readings, readings signed with a key rotated out, someone
 * else's, spent, retired or mixed UTXOs). A model (vm/testing/ledger-model.ts) predicts
 * every tx's fate and every mint; after each block the chain must show:
 * - minted Wh per (device, interval) = the net export of the readings the chain counted in
 *   that interval, which are the readings the model counted, each once;
 * - per provenance, unspent + retired = minted; every UTXO and certificate carries a
 *   minted provenance (never mixed);
 * - no spent id exists again; every certificate is unchanged, byte for byte.
 */

/** What the runs exercised, across runs: chain rejection codes and applied outcomes. */
const seen = new Map<string, number>();
const saw = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

interface Built {
  readonly tx: Tx;
  readonly sender: string;
  /** null: invalid; otherwise the receipt's success, a batch's skipped devices with their reasons, and what applying it does to the model. */
  readonly expect: { readonly success: boolean; readonly skipped?: ReadonlyMap<string, string>; readonly apply: () => void } | null;
  /** Why the model refuses it (or how it fails). */
  readonly why: string;
  /** A retirement's certificate: its Wh and provenance text. */
  readonly cert?: { readonly wh: bigint; readonly provenance: string };
}

type Offsets = (who: string) => number;
/** Certificates by id (hex): the model's Wh and provenance, and the record's bytes once seen on chain. */
type Certs = Map<string, { raw: string | undefined; wh: bigint; provenance: string }>;

function run(blocks: readonly Block[]): void {
  const c = energyChain({ accounts: { agg: ['aggregator'], other: ['aggregator'], alice: [], bob: [], carol: [] } });
  const acct = c.accounts as Record<string, TestKey>;
  const nameOf = new Map(Object.entries(acct).map(([n, k]) => [toHex(k.address), n]));
  const params = c.ctx().params;
  const m = new LedgerModel(params, new Set(OPERATORS));
  let nextKey = 1;
  const certs: Certs = new Map();

  const prelude: Op[] = [
    { op: 'register', slot: 0, who: 0, rogue: false },
    { op: 'register', slot: 1, who: 0, rogue: false },
  ];
  for (const [i, b] of [{ advanceMs: 0, ops: prelude }, ...blocks].entries()) {
    c.advance(b.advanceMs);
    const ctx = c.ctx();
    const ex = new BlockExecutor(c.state, ctx);
    const offsets = new Map<string, number>();
    for (const o of b.ops) {
      const built = build(
        o,
        c,
        m,
        ctx.height,
        ctx.timestamp,
        (who) => offsets.get(who) ?? 0,
        () => nextKey++,
        certs,
      );
      if (built === undefined) continue;
      const r = ex.tryApply(built.tx);
      if (isJouleError(r)) {
        saw(r.code);
        expect(built.expect, `block ${i}: the chain refused a ${o.op} the model accepts: ${r.code} ${r.message}`).toBeNull();
        continue;
      }
      expect(built.expect, `block ${i}: the chain accepted a ${o.op} the model refuses (${built.why})`).not.toBeNull();
      expect(r.success, `block ${i}: ${o.op} receipt ${r.code}`).toBe(built.expect!.success);
      saw(r.success ? `${o.op} applied` : r.code);
      if (built.expect!.skipped !== undefined) {
        const skipped = skippedDevices(r.events);
        expect(skipped, `block ${i}: the devices the batch skipped, and why`).toEqual(built.expect!.skipped);
        for (const why of skipped.values()) saw(`skipped ${why}`);
      }
      offsets.set(built.sender, (offsets.get(built.sender) ?? 0) + 1);
      built.expect!.apply();
      if (built.cert !== undefined) certs.set(toHex(certificateId(built.tx.hash)), { raw: undefined, ...built.cert });
    }
    const result = ex.finish();
    c.state.apply(result.changes);
    c.height++;
    const mints = m.close(ctx.timestamp, (d, I) => toHex(mintedUtxoId(d, I)));
    for (const x of mints) if (x.wh > 0n) saw('minted');
    checkLedger(c, m, mints, ctx.height, certs, nameOf);
  }
}

/** Builds the tx of `o` and the model's prediction; undefined when the op has nothing to act on. */
function build(
  o: Op,
  c: EnergyChain,
  m: LedgerModel,
  height: number,
  blockMs: number,
  offsetOf: Offsets,
  freshKey: () => number,
  certs: ReadonlyMap<string, unknown>,
): Built | undefined {
  const acct = c.accounts as Record<string, TestKey>;
  const args = (who: string) => c.sender(acct[who]!, offsetOf(who));
  if (o.op === 'telemetry') return buildBatch(o, c, m, height, blockMs, offsetOf);
  if (o.op === 'transfer' || o.op === 'retire') return buildSpend(o, c, m, offsetOf, certs);
  // A re-key or status change acts on a registered device (an unknown one: the telemetry's unknown-device fault).
  const registered = [...m.devices.keys()].sort();
  const id = o.op === 'register' || registered.length === 0 ? slotId(o.slot) : registered[o.slot % registered.length]!;
  const device = m.devices.get(id);
  const operator = device?.operator ?? 'agg';
  const otherOperator = operator === 'agg' ? 'other' : 'agg';
  const verdict = (ok: boolean, apply: () => void, why = '') => ({ expect: ok ? { success: true, apply } : null, why });

  if (o.op === 'register') {
    const who = ['agg', 'other', 'alice'][o.who]!;
    const n = freshKey();
    const owner = OWNERS[o.slot % OWNERS.length]!;
    const kind = o.slot % 2 === 0 ? ('solar' as const) : ('wind' as const);
    const more = { kind, owner: acct[owner]!.address, maxExportW: 10_000, maxImportW: 10_000, carbonIntensity: 20 + o.slot, zone: 'NL' };
    const body = registerBody(id, keyNo(n), acct[who]!.address, o.rogue ? { ...more, proofOfPossession: devicePop(keyNo(ROGUE)) } : more);
    const tx = buildDeviceRegister({ ...args(who), device: body });
    const ok = m.canRegister(id, who, !o.rogue);
    return { tx, sender: who, ...verdict(ok, () => m.register({ id, owner, operator: who, kind, zone: 'NL', carbonIntensity: 20 + o.slot }, n, height)) };
  }
  if (o.op === 'rekey') {
    const who = o.stranger ? otherOperator : operator;
    const n = o.fault === 'reused' && device !== undefined ? device.keys[0]!.key : freshKey();
    const proof = o.fault === 'rogue' ? devicePop(keyNo(ROGUE)) : devicePop(keyNo(n));
    const tx = buildDeviceRekey({ ...args(who), id, publicKey: keyNo(n).publicKey, proofOfPossession: proof });
    return { tx, sender: who, ...verdict(m.canRekey(id, who, n, o.fault !== 'rogue'), () => m.rekey(id, n, height)) };
  }
  const who = o.stranger ? otherOperator : operator;
  const tx = buildDeviceStatus({ ...args(who), id, action: o.action });
  return { tx, sender: who, ...verdict(m.canSetStatus(id, who, o.action), () => m.setStatus(id, o.action)) };
}

function buildBatch(o: Extract<Op, { op: 'telemetry' }>, c: EnergyChain, m: LedgerModel, height: number, blockMs: number, offsetOf: Offsets): Built {
  // Mostly an active device (the rest: any registered one, whatever its status).
  const registered = [...m.devices.keys()].sort();
  const active = registered.filter((id) => m.devices.get(id)!.status === 'active');
  const among = o.anchor % 5 === 0 || active.length === 0 ? registered : active;
  const anchor = among.length === 0 ? slotId(0) : among[o.anchor % among.length]!;
  const operator = m.devices.get(anchor)?.operator ?? 'agg';
  const sender = o.sender === 'operator' ? operator : o.sender === 'no-role' ? 'alice' : operator === 'agg' ? 'other' : 'agg';
  // The operator's own devices (a batch of one sender's devices), or the anchor if it has none.
  // Ordered per device and after its last reading on chain (out of order only by the faults below).
  const last = new Map<string, number>();
  const readings: ModelReading[] = o.readings
    .map((r) => {
      const id = slotId(r.slot);
      return { deviceId: m.devices.get(id)?.operator === operator ? id : anchor, timestampMs: blockMs + r.offsetS * 1000, wh: BigInt(r.wh) };
    })
    .sort((a, b) => a.timestampMs - b.timestampMs)
    .map((r) => {
      const after = last.get(r.deviceId) ?? m.devices.get(r.deviceId)?.lastTimestampMs;
      const timestampMs = after === undefined ? r.timestampMs : Math.max(r.timestampMs, after + 1000);
      last.set(r.deviceId, timestampMs);
      return { ...r, timestampMs };
    });
  let keyHeight = height;
  const keyFor = (id: string, h: number) => {
    const d = m.devices.get(id);
    return d === undefined ? 1 : (m.keyAt(d, h) ?? m.keyAt(d, height) ?? d.keys.at(-1)!.key);
  };
  let signer: number[] | undefined;
  const target = readings[o.pick % readings.length]!;
  if (o.fault === 'replay' && m.countedList.length > 0) readings.push(m.countedList[o.pick % m.countedList.length]!);
  if (o.fault === 'reorder') readings.reverse();
  if (o.fault === 'unknown-device') readings.splice(o.pick % (readings.length + 1), 0, { deviceId: 'never-registered', timestampMs: blockMs, wh: -1n });
  if (o.fault === 'out-of-limit') readings[o.pick % readings.length] = { ...target, wh: OUT_OF_LIMIT_WH };
  const rotated = [...m.devices.values()].find((d) => d.operator === operator && d.keys.length >= 2);
  if (o.fault === 'stale-key' && rotated !== undefined) {
    if (!readings.some((r) => r.deviceId === rotated.id))
      readings.push({ deviceId: rotated.id, timestampMs: Math.max(blockMs, (rotated.lastTimestampMs ?? 0) + 1000), wh: -1n });
    // Signed with a key rotated out, naming either a height it was valid at or the current one.
    const old = rotated.keys.at(-2)!;
    if (o.pick % 2 === 0) keyHeight = old.fromHeight;
    signer = readings.map((r) => (r.deviceId === rotated.id ? old.key : keyFor(r.deviceId, keyHeight)));
  }
  signer ??= readings.map((r) => keyFor(r.deviceId, keyHeight));
  if (o.fault === 'wrong-key') signer[o.pick % signer.length] = ROGUE + 1;
  const signers = new Map(signer.map((n, i) => [i, keyNo(n)]));
  const tx = batchTx(
    c,
    c.accounts[sender] as TestKey,
    readings.map((r) => reading(r.deviceId, r.timestampMs, r.wh)),
    () => {
      throw new Error('every reading has a signer');
    },
    { keyHeight, offset: offsetOf(sender), signers },
  );
  const v: BatchVerdict = m.batch(sender, readings, signer, keyHeight, height, blockMs);
  if (v.kind === 'invalid') return { tx, sender, expect: null, why: v.why };
  return { tx, sender, expect: { success: true, skipped: v.skipped, apply: () => m.applyBatch(readings, v) }, why: v.kind };
}

function buildSpend(
  o: Extract<Op, { op: 'transfer' }> | Extract<Op, { op: 'retire' }>,
  c: EnergyChain,
  m: LedgerModel,
  offsetOf: Offsets,
  certs: ReadonlyMap<string, unknown>,
): Built | undefined {
  const args = (who: string) => c.sender(c.accounts[who] as TestKey, offsetOf(who));
  const live = [...m.utxos.keys()].sort();
  if (live.length === 0) return undefined;
  // A mixed merge pairs two UTXOs of one owner and two provenances (if there are such).
  const pairs = live.flatMap((a) =>
    live.filter((b) => m.utxos.get(b)!.owner === m.utxos.get(a)!.owner && m.utxos.get(b)!.provenance !== m.utxos.get(a)!.provenance).map((b) => [a, b]),
  );
  const pair = o.fault === 'mixed' && pairs.length > 0 ? pairs[o.pick % pairs.length] : undefined;
  const first = pair?.[0] ?? live[o.pick % live.length]!;
  const u = m.utxos.get(first)!;
  let sender: string = u.owner;
  const inputs = [first];
  if (o.merge) {
    const twin = live.find((x) => x !== first && m.utxos.get(x)!.owner === u.owner && m.utxos.get(x)!.provenance === u.provenance);
    if (twin !== undefined) inputs.push(twin);
  }
  if (o.fault === 'foreign') sender = OWNERS[(OWNERS.indexOf(u.owner as (typeof OWNERS)[number]) + 1 + (o.extra % 2)) % OWNERS.length]!;
  if (o.fault === 'spent') {
    // A UTXO spent or retired before (perhaps earlier in this block), or a certificate's id.
    const gone = [...m.spent, ...certs.keys()];
    if (gone.length === 0) return undefined;
    inputs.splice(o.extra % (inputs.length + 1), 0, gone[o.extra % gone.length]!);
  }
  if (o.fault === 'mixed') {
    const other = pair?.[1] ?? live.find((x) => m.utxos.get(x)!.provenance !== u.provenance);
    if (other === undefined) return undefined;
    inputs.push(other);
  }
  const total = m.whOf(inputs);
  const ids = inputs.map((x) => Uint8Array.from(Buffer.from(x, 'hex')));
  const spendable = m.canSpend(sender, inputs);
  if (o.op === 'transfer') {
    const sum = o.shares.reduce((a, b) => a + b, 0);
    const wh = o.shares.map((s) => (total * BigInt(s)) / BigInt(sum));
    wh[0] = wh[0]! + total - wh.reduce((a, b) => a + b, 0n) + (o.fault === 'amount' ? (o.extra % 2 === 0 ? 1n : -1n) : 0n);
    const amounts = wh.every((x) => x > 0n) ? wh : [total > 1n ? total : 1n];
    const outputs = amounts.map((x, i) => ({ owner: OWNERS[(o.extra + i) % OWNERS.length]!, wh: x }));
    const tx = buildEnergyTransfer({
      ...args(sender),
      inputs: ids,
      outputs: outputs.map((x) => ({ owner: (c.accounts[x.owner] as TestKey).address, wh: x.wh })),
    });
    const ok = spendable && amounts.reduce((a, b) => a + b, 0n) === total;
    const apply = () =>
      void m.spend(
        inputs,
        outputs.map((x, i) => ({ id: toHex(outputUtxoId(tx.hash, i)), ...x })),
      );
    return { tx, sender, expect: ok ? { success: true, apply } : null, why: spendable ? 'not conserved' : 'inputs not spendable' };
  }
  const retireWh = o.fault === 'amount' ? total + 1n : (total * BigInt(1 + (o.extra % 1000))) / 1000n || 1n;
  const tx = buildEnergyRetire({ ...args(sender), inputs: ids, wh: retireWh, beneficiary: (c.accounts.carol as TestKey).address, purpose: 'ledger property' });
  const ok = spendable && retireWh <= total;
  const cert = { wh: retireWh, provenance: ok ? m.utxos.get(first)!.provenance : '' };
  const change = total - retireWh;
  const apply = () => void m.spend(inputs, change > 0n ? [{ id: toHex(outputUtxoId(tx.hash, 0)), owner: sender, wh: change }] : []);
  return { tx, sender, cert, expect: ok ? { success: true, apply } : null, why: spendable ? 'more than the inputs hold' : 'inputs not spendable' };
}

/** The invariants, on the chain's state after a block (at `height`) that closed `mints`. */
function checkLedger(c: EnergyChain, m: LedgerModel, mints: readonly ExpectedMint[], height: number, certs: Certs, nameOf: ReadonlyMap<string, string>): void {
  // Telemetry: each device's status and last reading as the model has them, and its open
  // intervals' totals exactly the readings the model counted (none twice, none lost).
  for (const d of m.devices.values()) {
    expect(getDevice(c.state, d.id)!.status, `${d.id} status`).toBe(d.status);
    expect(getMeterCursor(c.state, d.id)?.lastTimestampUs, `${d.id} last reading`).toBe(
      d.lastTimestampMs === undefined ? undefined : BigInt(d.lastTimestampMs) * 1000n,
    );
    for (const [I, t] of d.open) {
      const chain = intervalTotalsOf(c.state, d.id, I);
      expect(chain && { readings: chain.readings, importWh: chain.importWh, exportWh: chain.exportWh }, `${d.id} interval ${I}`).toEqual(t);
    }
    const all = listIntervalTotals(c.state, d.id, 0, Number.MAX_SAFE_INTEGER, 10_000);
    const mine = m.countedList.filter((r) => r.deviceId === d.id);
    expect(
      all.reduce((n, t) => n + t.readings, 0),
      `${d.id}: readings counted on chain`,
    ).toBe(mine.length);
    expect(new Set(mine.map((r) => r.timestampMs)).size).toBe(mine.length);
  }
  // Minting: each interval closed in this block minted exactly its net metered export, as the chain counted it.
  for (const x of mints) {
    const t = getIntervalTotals(c.state, x.deviceId, x.intervalStartMs)!;
    expect(t, `${x.deviceId} interval ${x.intervalStartMs} closed`).toMatchObject({ ...x.totals, status: 'closed', mintedWh: x.wh });
    const net = t.exportWh > t.importWh ? t.exportWh - t.importWh : 0n;
    const u = getUtxo(c.state, mintedUtxoId(x.deviceId, x.intervalStartMs));
    expect(u?.wh ?? 0n, `${x.deviceId} interval ${x.intervalStartMs}: minted = metered net export`).toBe(net);
    if (u !== undefined) {
      expect(u.provenance).toEqual(x.provenance);
      expect({ owner: nameOf.get(toHex(u.owner)), frozen: u.frozen, height: u.height }).toEqual({ owner: x.owner, frozen: false, height });
    }
  }
  // Energy: the UTXO set is the model's; per provenance unspent + retired = minted; nothing
  // spent is back; every UTXO and certificate carries a minted provenance.
  const utxos = [...c.state.iterate(UTXO_RECORDS_PREFIX)].map(([, v]) => decodeEnergyUtxo(v));
  const onChain = new Map(utxos.map((u) => [toHex(u.id), { owner: nameOf.get(toHex(u.owner))!, wh: u.wh, provenance: provenanceText(u.provenance) }]));
  expect(onChain).toEqual(m.utxos);
  for (const id of m.spent) expect(onChain.has(id), `spent UTXO ${id} is back`).toBe(false);
  const held = new Map<string, bigint>();
  const add = (p: string, wh: bigint) => held.set(p, (held.get(p) ?? 0n) + wh);
  for (const u of onChain.values()) add(u.provenance, u.wh);
  const records = [...c.state.iterate(CERTIFICATE_RECORDS_PREFIX)];
  expect(records.length, 'certificates').toBe(certs.size);
  for (const [k, v] of records) {
    const cert = decodeCertificate(v);
    const mine = certs.get(toHex(cert.id));
    expect(mine, `certificate ${toHex(cert.id)} unknown to the model`).toBeDefined();
    expect({ wh: cert.wh, provenance: provenanceText(cert.provenance) }).toEqual({ wh: mine!.wh, provenance: mine!.provenance });
    // Retired energy never moves: the record stays as first written, byte for byte.
    const raw = `${toHex(k)}:${toHex(v)}`;
    mine!.raw ??= raw;
    expect(raw, 'a certificate changed').toBe(mine!.raw);
    add(cert.provenance === undefined ? '' : provenanceText(cert.provenance), cert.wh);
  }
  for (const p of held.keys()) expect(m.minted.has(p), `a provenance never minted: ${p}`).toBe(true);
  for (const [p, wh] of m.minted) expect(held.get(p) ?? 0n, `unspent + retired = minted for ${p}`).toBe(wh);
}

describe('the energy ledger over random blocks of device, telemetry and energy txs (property)', () => {
  it('mints exactly the metered export, counts no reading twice, spends no UTXO twice, never moves retired energy, never mixes provenance', () => {
    fc.assert(
      fc.property(fc.array(blockArb, { minLength: 6, maxLength: 14 }), (blocks) => run(blocks)),
      { numRuns: 15, examples: [[SCENARIO]] },
    );
    // The runs did exercise every path the invariants are about, not only rejections (SCENARIO sees to it).
    const paths = [
      ...['register', 'rekey', 'status', 'telemetry', 'transfer', 'retire'].map((op) => `${op} applied`),
      'minted',
      ...['DEVICE_UNKNOWN', 'DEVICE_INACTIVE', 'TX_UNAUTHORIZED', 'TELEMETRY_OUT_OF_ORDER', 'TELEMETRY_SKEW', 'TELEMETRY_KEY_ROTATED', 'TX_BAD_SIGNATURE'],
      ...['TELEMETRY_IMPOSSIBLE_ENERGY', 'DEVICE_INACTIVE', 'TELEMETRY_KEY_ROTATED'].map((why) => `skipped ${why}`),
      ...['ENERGY_UTXO_UNKNOWN', 'ENERGY_PROVENANCE_MIXED', 'ENERGY_NOT_CONSERVED'],
    ];
    for (const what of paths) expect(seen.get(what) ?? 0, what).toBeGreaterThan(0);
  });
});
