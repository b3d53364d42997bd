import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../rpc/testing/tls-certs.ts';
import { createTestNetwork, NodeProcess, stopTestNetworks } from './helpers/cluster.ts';

/**
 * gRPC TLS as an operator sets it up: certificate files in the node's home, `grpc.tls` in
 * its config.json (paths relative to the home), `joule start`. With a client CA the node
 * asks for mutual TLS: a client with a certificate of that CA is served; a plaintext
 * client, a TLS client without a certificate and one with another CA's are not.
 */

type Health = {
  check(req: { service: string }, opts: { deadline: number }, cb: (e: ServiceError | null, r?: { status: string }) => void): void;
  close(): void;
};

describe('gRPC over mutual TLS from a node home', () => {
  const procs: NodeProcess[] = [];
  const pkis: TestPki[] = [];
  const clients: Health[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await stopTestNetworks(procs);
    for (const p of pkis) p.remove();
  });

  it('serves a client of its CA and refuses plaintext, no certificate and a stranger CA', async () => {
    const pki = createTestPki('joule-home-ca');
    const stranger = createTestPki('stranger-ca');
    pkis.push(pki, stranger);
    const net = await createTestNetwork({ validators: 1, accounts: 1 });
    const home = net.nodes[0]!.home;
    await mkdir(join(home, 'tls'));
    await writeFile(join(home, 'tls', 'server.pem'), pki.server.cert);
    await writeFile(join(home, 'tls', 'server.key'), pki.server.key, { mode: 0o600 });
    await writeFile(join(home, 'tls', 'clients-ca.pem'), pki.ca);
    const configFile = join(home, 'config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { grpc: Record<string, unknown> };
    config.grpc.tls = { certFile: 'tls/server.pem', keyFile: 'tls/server.key', clientCaFile: 'tls/clients-ca.pem' };
    await writeFile(configFile, JSON.stringify(config, null, 2));
    const node = new NodeProcess(net.nodes[0]!);
    procs.push(node);
    await node.start(60_000);

    const address = `127.0.0.1:${net.nodes[0]!.ports.grpc}`;
    const Ctor = makeGenericClientConstructor(healthService as never, 'Health');
    const check = (creds: ChannelCredentials) => {
      const c = new Ctor(address, creds, { 'grpc.use_local_subchannel_pool': 1 }) as unknown as Health;
      clients.push(c);
      return new Promise<{ err: ServiceError | null; status?: string }>((resolve) =>
        c.check({ service: '' }, { deadline: Date.now() + 5000 }, (err, r) => resolve({ err, status: r?.status })),
      );
    };
    const device = pki.client('operator-of-devices');
    const served = await check(credentials.createSsl(pki.ca, device.key, device.cert));
    expect(served.err).toBeNull();
    expect(served.status).toBe('SERVING');

    const plaintext = await check(credentials.createInsecure());
    expect(plaintext.err?.code).toBe(14); // UNAVAILABLE: the port speaks TLS only
    const noCertificate = await check(credentials.createSsl(pki.ca));
    expect(noCertificate.err).not.toBeNull();
    const other = stranger.client('operator-of-devices');
    const strangerCa = await check(credentials.createSsl(pki.ca, other.key, other.cert));
    expect(strangerCa.err).not.toBeNull();
  });
});
