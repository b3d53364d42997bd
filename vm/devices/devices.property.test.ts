import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { equalBytes } from '../../core/bytes.ts';
import { decodeDevice, type DeviceRecord } from '../../core/device.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildDeviceRekey } from '../../core/tx/device-rekey.ts';
import { buildDeviceStatus } from '../../core/tx/device-status.ts';
import { buildDeviceUpdate } from '../../core/tx/device-update.ts';
import type { Tx } from '../../core/tx.ts';
import { DEVICE_RECORDS_PREFIX, listDevices } from '../../state/devices.ts';
import { BlockExecutor } from '../executor.ts';
import { devicePop, energyChain, registerBody, testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';

/**
 * Random sequences of device transactions (registrations, updates, status changes,
 * re-keys) by operators, strangers and validators, executed block by block (strict: every
 * read declared). Whatever the sequence: a revoked device never changes again, ids are
 * never registered twice, a key history only grows at its end with increasing heights and
 * ends with the current key, and the operator and zone indexes list exactly the records.
 */

const IDS = ['d0', 'd1', 'd2', 'd3'];
const ZONES = ['NL', 'BE', 'DE'];

type Op =
  | { kind: 'register'; who: number; id: string; key: number; zone: number }
  | { kind: 'update'; who: number; id: string; zone?: number; export?: number; operator?: number }
  | { kind: 'status'; who: number; id: string; action: 'suspend' | 'revoke' | 'reactivate' }
  | { kind: 'rekey'; who: number; id: string; key: number };

const who = fc.nat(4); // 0..2 operators (aggregator, dso, aggregator), 3 nobody, 4 a validator
const id = fc.constantFrom(...IDS);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('register' as const), who, id, key: fc.nat(30), zone: fc.nat(2) }),
  fc.record({
    kind: fc.constant('update' as const),
    who,
    id,
    zone: fc.option(fc.nat(2), { nil: undefined }),
    export: fc.option(fc.nat(20_000), { nil: undefined }),
    operator: fc.option(fc.nat(2), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('status' as const), who, id, action: fc.constantFrom('suspend' as const, 'revoke' as const, 'reactivate' as const) }),
  fc.record({ kind: fc.constant('rekey' as const), who, id, key: fc.nat(30) }),
);

function allDevices(state: { iterate: (p: Uint8Array) => IterableIterator<readonly [Uint8Array, Uint8Array]> }): DeviceRecord[] {
  return [...state.iterate(DEVICE_RECORDS_PREFIX)].map(([, v]) => decodeDevice(v));
}

describe('device transactions, property', () => {
  it('keep revocation final, ids unique, key histories append-only, indexes exact', () => {
    const applied: Record<Op['kind'], number> = { register: 0, update: 0, status: 0, rekey: 0 };
    fc.assert(
      fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }), (blocks) => {
        const c = energyChain({ accounts: { a0: ['aggregator'], a1: ['dso'], a2: ['aggregator'], nobody: [] } });
        const people: TestKey[] = [c.accounts.a0!, c.accounts.a1!, c.accounts.a2!, c.accounts.nobody!];
        const registeredOnce = new Set<string>();
        for (const ops of blocks) {
          const before = new Map(allDevices(c.state).map((d) => [d.id, d]));
          const ex = new BlockExecutor(c.state, c.ctx());
          const offsets = new Map<number, number>();
          for (const o of ops) {
            const sender = o.who === 4 ? c.validators[0]! : people[o.who]!;
            const off = offsets.get(o.who) ?? 0;
            const args = c.sender(sender, off);
            let tx: Tx;
            try {
              if (o.kind === 'register')
                tx = buildDeviceRegister({ ...args, device: registerBody(o.id, testDeviceKey(o.key), people[0]!.address, { zone: ZONES[o.zone]! }) });
              else if (o.kind === 'update')
                tx = buildDeviceUpdate({
                  ...args,
                  update: {
                    id: o.id,
                    ...(o.zone !== undefined ? { zone: ZONES[o.zone]! } : {}),
                    ...(o.export !== undefined ? { maxExportW: o.export } : {}),
                    ...(o.operator !== undefined ? { operator: people[o.operator]!.address } : {}),
                  },
                });
              else if (o.kind === 'status') tx = buildDeviceStatus({ ...args, id: o.id, action: o.action });
              else tx = buildDeviceRekey({ ...args, id: o.id, publicKey: testDeviceKey(o.key).publicKey, proofOfPossession: devicePop(testDeviceKey(o.key)) });
            } catch {
              continue; // a body the codec refuses (an update of nothing) is never sent
            }
            const r = ex.tryApply(tx);
            if (!(r instanceof Error)) {
              offsets.set(o.who, off + 1);
              if (r.success) applied[o.kind]++;
              if (o.kind === 'register' && r.success) {
                expect(registeredOnce.has(o.id), `${o.id} registered twice`).toBe(false);
                registeredOnce.add(o.id);
              }
            }
          }
          const result = ex.finish();
          c.state.apply(result.changes);
          c.height++;
          const after = allDevices(c.state);
          for (const d of after) {
            const was = before.get(d.id);
            if (was?.status === 'revoked') expect(d).toEqual(was);
            if (was !== undefined) {
              // Across blocks a history only grows (a same-block second re-key replaces only its own block's entry).
              expect(d.keyHistory.slice(0, was.keyHistory.length)).toEqual(was.keyHistory);
            }
            d.keyHistory.forEach((k, i) => i > 0 && expect(k.fromHeight).toBeGreaterThan(d.keyHistory[i - 1]!.fromHeight));
            expect(equalBytes(d.publicKey, d.keyHistory[d.keyHistory.length - 1]!.key)).toBe(true);
          }
          const ids = (ds: DeviceRecord[]) => ds.map((d) => d.id);
          for (const p of people.slice(0, 3)) {
            expect(ids(listDevices(c.state, { limit: 100, operator: p.address }).devices)).toEqual(ids(after.filter((d) => equalBytes(d.operator, p.address))));
          }
          for (const z of ZONES) expect(ids(listDevices(c.state, { limit: 100, zone: z }).devices)).toEqual(ids(after.filter((d) => d.zone === z)));
        }
      }),
      { numRuns: 60 },
    );
    // The sequences did exercise every type (not only rejections).
    for (const k of Object.keys(applied) as Op['kind'][]) expect(applied[k], k).toBeGreaterThan(0);
  });
});
