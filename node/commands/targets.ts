import { canonicalTargets, MAX_COMMAND_TARGETS } from '../../core/command.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';

/** One page of devices (NodeApi.listDevices, or joule_listDevices over RPC). */
export type DevicePager = (q: {
  operator: Uint8Array;
  zone: string;
  limit: number;
  after?: string;
}) => Promise<{ devices: readonly Pick<DeviceRecord, 'id' | 'status'>[]; next: string | undefined }>;

const PAGE = 100;

/**
 * A zone resolved to the devices `issuer` operates there (revoked ones left out), sorted:
 * the targets of a zone command. NOT_FOUND naming `zone` when it operates none there;
 * TX_INVALID_FIELD when more than one command may name (split the command).
 */
export async function zoneTargets(list: DevicePager, issuer: Uint8Array, zone: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await list({ operator: issuer, zone, limit: PAGE, ...(after === undefined ? {} : { after }) });
    for (const d of page.devices) if (d.status !== 'revoked') ids.push(d.id);
    if (ids.length > MAX_COMMAND_TARGETS)
      throw new JouleError(
        ErrorCode.TX_INVALID_FIELD,
        `the issuer operates more than ${MAX_COMMAND_TARGETS} devices in zone ${zone}: name them in several commands`,
        'zone',
      );
    after = page.next;
  } while (after !== undefined);
  if (ids.length === 0) throw new JouleError(ErrorCode.NOT_FOUND, `the issuer operates no active device in zone ${JSON.stringify(zone)}`, 'zone');
  return canonicalTargets(ids);
}
