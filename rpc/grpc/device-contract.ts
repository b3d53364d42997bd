import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

/**
 * The user's device contract, `proto/energysettlement/v1/device.proto`, loaded at run time
 * by proto-loader (no generated code: the .proto file is the one source). int64 fields
 * arrive as decimal strings and are parsed to bigint by the stream; bytes as Buffers;
 * field names as in the file (`device_id`).
 */
export const DEVICE_PROTO_FILE = fileURLToPath(new URL('../../proto/energysettlement/v1/device.proto', import.meta.url));

export const DEVICE_SERVICE_NAME = 'energysettlement.v1.EnergyDeviceStream';

export const PROTO_LOADER_OPTIONS: Options = { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true, oneofs: true };

/** The telemetry message as proto-loader decodes it (proto3 defaults filled in). */
export interface DeviceTelemetryMessage {
  device_id: string;
  timestamp_us: string;
  net_energy_wh: string;
  state_of_charge_percent: number;
  signature: Buffer;
}

/** The command message as proto-loader encodes it. */
export interface GridCommandMessage {
  command_id: string;
  type: number;
  power_limit_kw: number;
  price_per_kwh_cents: number;
  valid_until_timestamp_us: string;
  command_hash: Uint8Array;
}

let loaded: { pkg: PackageDefinition; service: ServiceDefinition } | undefined;

export function devicePackage(): { pkg: PackageDefinition; service: ServiceDefinition } {
  if (loaded === undefined) {
    const pkg = loadSync(DEVICE_PROTO_FILE, PROTO_LOADER_OPTIONS);
    const grpcObject = loadPackageDefinition(pkg) as unknown as { energysettlement: { v1: { EnergyDeviceStream: { service: ServiceDefinition } } } };
    loaded = { pkg, service: grpcObject.energysettlement.v1.EnergyDeviceStream.service };
  }
  return loaded;
}
