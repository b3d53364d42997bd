import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, type ChannelCredentials, type Client, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * A gRPC server reflection client (grpc.reflection.v1, as grpcurl speaks it), from the
 * reflection .proto @grpc/reflection ships: what a tool that knows nothing of Joule sees.
 */

const REFLECTION_PROTO = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto/grpc/reflection/v1/reflection.proto');

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

export interface ReflectionClient {
  readonly client: Client;
  /** The fully qualified names of the services the server lists. */
  listServices(): Promise<string[]>;
  /** The serialized FileDescriptorProtos of the file defining `symbol` and its imports; rejects with the server's error. */
  fileContainingSymbol(symbol: string): Promise<Buffer[]>;
}

export function reflectionClient(address: string, channel: ChannelCredentials = credentials.createInsecure()): ReflectionClient {
  const pkg = loadSync(REFLECTION_PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const Ctor = (loadPackageDefinition(pkg) as unknown as { grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } } }).grpc.reflection.v1
    .ServerReflection;
  const client = new Ctor(address, channel, { 'grpc.use_local_subchannel_pool': 1 });
  const ask = (request: Record<string, unknown>) =>
    new Promise<ReflectionResponse>((resolve, reject) => {
      const call = (client as unknown as { ServerReflectionInfo(): NodeJS.ReadWriteStream & { end(): void } }).ServerReflectionInfo();
      call.once('data', (r: ReflectionResponse) => {
        resolve(r);
        call.end();
      });
      call.once('error', reject);
      call.write(request as never);
    });
  return {
    client,
    async listServices() {
      const r = await ask({ list_services: '' });
      return (r.list_services_response?.service ?? []).map((s) => s.name);
    },
    async fileContainingSymbol(symbol) {
      const r = await ask({ file_containing_symbol: symbol });
      if (r.error_response !== undefined) throw new Error(`reflection: ${r.error_response.error_code} ${r.error_response.error_message}`);
      return r.file_descriptor_response?.file_descriptor_proto ?? [];
    },
  };
}
