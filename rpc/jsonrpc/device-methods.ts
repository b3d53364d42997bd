/**
 * JSON-RPC methods of the energy ledger's devices and roles: joule_getDevice,
 * joule_listDevices (bounded pages), joule_getRoles. They read optional NodeApi members;
 * a node without one answers UNAVAILABLE (-32000).
 */
import { isDeviceId, isZone } from '../../core/device.ts';
import type { DeviceListJson, RolesJson } from '../../core/rpc-json.ts';
import { formatAddress } from '../../core/keys.ts';
import { TxType } from '../../core/tx/types.ts';
import { formatDevice, formatRoleProposal } from './device-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { arity, invalid, need, parseAddressParam, typeName } from './params.ts';
import type { DeviceQuery, NodeApi } from '../node-api.ts';

/** Most devices one joule_listDevices call returns (and the default). */
export const MAX_DEVICE_PAGE = 100;

const LIST_FIELDS = ['operator', 'zone', 'limit', 'cursor'];

function deviceIdParam(v: unknown, field: string): string {
  if (!isDeviceId(v)) throw invalid(field, `must be a device id (1-64 of letters, digits, ".", "_", ":", "-"), got ${typeName(v)}`);
  return v;
}

function listQuery(v: unknown): DeviceQuery {
  if (v === undefined || v === null) return { limit: MAX_DEVICE_PAGE };
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('params[0]', `must be an object {operator?, zone?, limit?, cursor?}, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!LIST_FIELDS.includes(k)) throw invalid(`params[0].${k}`, 'unknown field');
  const limit = o.limit ?? MAX_DEVICE_PAGE;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_DEVICE_PAGE)
    throw invalid('params[0].limit', `must be an integer 1..${MAX_DEVICE_PAGE}`);
  const q: { -readonly [K in keyof DeviceQuery]: DeviceQuery[K] } = { limit };
  if (o.operator !== undefined && o.operator !== null) q.operator = parseAddressParam(o.operator, 'params[0].operator');
  if (o.zone !== undefined && o.zone !== null) {
    if (!isZone(o.zone)) throw invalid('params[0].zone', 'must be a zone (1-32 of letters, digits, ".", "_", ":", "-")');
    q.zone = o.zone;
  }
  if (o.cursor !== undefined && o.cursor !== null) q.after = deviceIdParam(o.cursor, 'params[0].cursor');
  return q;
}

export function addDeviceMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_getDevice', async (p) => {
    arity(p, 1, 1);
    const get = need(api.getDevice, 'devices').bind(api);
    const d = await get(deviceIdParam(p[0], 'params[0]'));
    return d === undefined ? null : formatDevice(d);
  });

  m.set('joule_listDevices', async (p): Promise<DeviceListJson> => {
    arity(p, 0, 1);
    const list = need(api.listDevices, 'devices').bind(api);
    const page = await list(listQuery(p[0]));
    return { devices: page.devices.map(formatDevice), nextCursor: page.next ?? null };
  });

  m.set('joule_getRoles', async (p): Promise<RolesJson> => {
    arity(p, 1, 1);
    const address = parseAddressParam(p[0], 'params[0]');
    const proposals = api.listGovernanceProposals === undefined ? [] : await api.listGovernanceProposals();
    const current = api.getValidators === undefined ? undefined : await api.getValidators();
    const pending = proposals.flatMap((x) => formatRoleProposal(x, TxType.roleVote, address, current) ?? []);
    return { address: formatAddress(address), roles: [...api.getAccount(address).roles], pending };
  });
}
