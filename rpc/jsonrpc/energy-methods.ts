/**
 * JSON-RPC methods of energy tokens: joule_getEnergyUtxo, joule_listEnergyUtxos,
 * joule_getCertificate, joule_listCertificates (bounded pages with a cursor). Every record
 * comes with its state key, which joule_getProof proves. They read optional NodeApi
 * members; a node without one answers UNAVAILABLE (-32000).
 */
import { isDeviceId, isZone } from '../../core/device.ts';
import { ENERGY_ID_LENGTH } from '../../core/energy.ts';
import type { EnergyCertificateListJson, EnergyUtxoListJson } from '../../core/rpc-json.ts';
import { formatCertificate, formatEnergyUtxo } from './energy-format.ts';
import { hex } from './json-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { arity, invalid, need, pageParams, parseAddressParam, parseHexParam, queryObject, typeName } from './params.ts';
import type { CertificateFilter, NodeApi } from '../node-api.ts';

/** Most items one list call returns (and the default). */
export const MAX_ENERGY_PAGE = 100;
/** A cursor is an index key's tail: a 32-byte id, or 8 bytes of period before it. */
const MAX_CURSOR_BYTES = 40;

const present = (v: unknown) => v !== undefined && v !== null;

function periodParam(v: unknown): { fromMs: number; toMs: number } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('params[0].period', `must be an object {from, to} (ms), got ${typeName(v)}`);
  const { from, to, ...rest } = v as Record<string, unknown>;
  for (const k of Object.keys(rest)) throw invalid(`params[0].period.${k}`, 'unknown field');
  const ms = (x: unknown, f: string) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
      throw invalid(`params[0].period.${f}`, 'must be a non-negative integer (ms since the Unix epoch)');
    return x;
  };
  const fromMs = ms(from, 'from');
  const toMs = ms(to, 'to');
  if (toMs <= fromMs) throw invalid('params[0].period.to', 'must be after from');
  return { fromMs, toMs };
}

function certificateFilter(o: Record<string, unknown>): CertificateFilter {
  const given = ['beneficiary', 'device', 'zone', 'period'].filter((k) => present(o[k]));
  if (given.length > 1) throw invalid(`params[0].${given[1]}`, `list by one of beneficiary, device, zone, period at a time (got ${given.join(' and ')})`);
  if (present(o.beneficiary)) return { by: 'beneficiary', beneficiary: parseAddressParam(o.beneficiary, 'params[0].beneficiary') };
  if (present(o.device)) {
    if (!isDeviceId(o.device)) throw invalid('params[0].device', 'must be a device id (1-64 of letters, digits, ".", "_", ":", "-")');
    return { by: 'device', deviceId: o.device };
  }
  if (present(o.zone)) {
    if (!isZone(o.zone)) throw invalid('params[0].zone', 'must be a zone (1-32 of letters, digits, ".", "_", ":", "-")');
    return { by: 'zone', zone: o.zone };
  }
  if (present(o.period)) return { by: 'period', ...periodParam(o.period) };
  return { by: 'all' };
}

export function addEnergyMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_getEnergyUtxo', async (p) => {
    arity(p, 1, 1);
    const get = need(api.getEnergyUtxo, 'energy UTXOs').bind(api);
    const u = await get(parseHexParam(p[0], 'params[0]', ENERGY_ID_LENGTH));
    return u === undefined ? null : formatEnergyUtxo(u);
  });

  m.set('joule_listEnergyUtxos', async (p): Promise<EnergyUtxoListJson> => {
    arity(p, 0, 1);
    const list = need(api.listEnergyUtxos, 'energy UTXOs').bind(api);
    const o = queryObject(p[0] ?? {}, '{owner?, limit?, cursor?}', ['owner', 'limit', 'cursor']);
    const owner = present(o.owner) ? parseAddressParam(o.owner, 'params[0].owner') : undefined;
    const page = await list({ ...pageParams(o, MAX_ENERGY_PAGE, MAX_CURSOR_BYTES), ...(owner === undefined ? {} : { owner }) });
    return { utxos: page.utxos.map(formatEnergyUtxo), nextCursor: page.next === undefined ? null : hex(page.next) };
  });

  m.set('joule_getCertificate', async (p) => {
    arity(p, 1, 1);
    const get = need(api.getCertificate, 'certificates').bind(api);
    const c = await get(parseHexParam(p[0], 'params[0]', ENERGY_ID_LENGTH));
    return c === undefined ? null : formatCertificate(c);
  });

  m.set('joule_listCertificates', async (p): Promise<EnergyCertificateListJson> => {
    arity(p, 0, 1);
    const list = need(api.listCertificates, 'certificates').bind(api);
    const o = queryObject(p[0] ?? {}, '{beneficiary? | device? | zone? | period?: {from, to}, limit?, cursor?}', [
      'beneficiary',
      'device',
      'zone',
      'period',
      'limit',
      'cursor',
    ]);
    const page = await list({ filter: certificateFilter(o), ...pageParams(o, MAX_ENERGY_PAGE, MAX_CURSOR_BYTES) });
    return {
      certificates: page.certificates.map((c) => ({ ...formatCertificate(c.certificate), indexKey: hex(c.indexKey) })),
      nextCursor: page.next === undefined ? null : hex(page.next),
    };
  });
}
