import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

/** The folder the .proto files live in (imports are relative to it: "joule/v1/types.proto"). */
export const PROTO_ROOT = fileURLToPath(new URL('../../proto/', import.meta.url));

export const JOULE_PROTO_FILES = ['joule/v1/transactions.proto', 'joule/v1/query.proto', 'joule/v1/events.proto', 'joule/v1/commands.proto'] as const;

/**
 * How the messages look in JavaScript, for the services and their clients alike: field names
 * as in the .proto (snake_case), 64-bit integers as decimal strings (no precision lost),
 * enums by name, unset fields as their defaults, and which oneof member is set.
 */
export const JOULE_PROTO_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_ROOT] };

export const JOULE_SERVICE_NAMES = ['TransactionService', 'QueryService', 'EventService', 'CommandService'] as const;
export type JouleServiceName = (typeof JOULE_SERVICE_NAMES)[number];

let definition: PackageDefinition | undefined;
let loaded: GrpcObject | undefined;

/** The joule.v1 .proto files as proto-loader reads them, loaded once (server reflection describes them). */
export function joulePackageDefinition(): PackageDefinition {
  definition ??= loadSync([...JOULE_PROTO_FILES], JOULE_PROTO_OPTIONS);
  return definition;
}

/** The joule.v1 package, loaded once. */
export function joulePackage(): GrpcObject {
  loaded ??= (loadPackageDefinition(joulePackageDefinition()).joule as GrpcObject).v1 as GrpcObject;
  return loaded;
}

/** The client constructor of one service (tests and clients). */
export function jouleServiceClient(name: JouleServiceName): ServiceClientConstructor {
  return joulePackage()[name] as ServiceClientConstructor;
}

export function jouleServiceDefinition(name: JouleServiceName): ServiceDefinition {
  return jouleServiceClient(name).service;
}
