import { credentials, status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.ts';
import { formatAddress } from '../../core/keys.ts';
import { createTestPki, type TestPki } from '../../rpc/testing/tls-certs.ts';
import { connect, contractClient, ended, readingMessage, startHarness, type DeviceCall, type Harness } from './testing/harness.ts';

/**
 * The device stream over TLS and mutual TLS, with a CA, server and client certificates made
 * for the test by openssl: a device reaches the node only through TLS; with mutual TLS only
 * with a certificate of the node's CA, and its readings are taken only when the certificate
 * names the device's operator.
 */

const nowUs = () => BigInt(Date.now()) * 1000n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pki: TestPki;
let stranger: TestPki;
beforeAll(() => {
  pki = createTestPki('joule-test-ca');
  stranger = createTestPki('some-other-ca');
});
afterAll(() => {
  pki.remove();
  stranger.remove();
});

let h: Harness | undefined;
const clients: { close(): void }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h?.close();
  h = undefined;
});

/** A device's stream over `channel`: a first reading of a registered device, and how the stream ends or that it was accepted. */
async function stream(
  harness: Harness,
  channel: ReturnType<typeof credentials.createSsl>,
): Promise<{ accepted: boolean; end?: { code: number; details: string } }> {
  const d = harness.addDevice(`meter-${clients.length}`);
  // The name the server certificate is checked against (an IP as TLS server name is deprecated).
  const c = contractClient(`127.0.0.1:${harness.server.port}`, { 'grpc.ssl_target_name_override': 'localhost' }, channel);
  clients.push(c);
  const call: DeviceCall = connect(c);
  const end = ended(call);
  const ts = nowUs();
  call.write(readingMessage(d, ts, -1n));
  const accepted = () => harness.acks.some((a) => a.deviceId === d.id && a.timestampUs === ts && a.outcome === 'accepted');
  const result = await Promise.race([
    end,
    (async () => {
      for (let i = 0; i < 500 && !accepted(); i++) await sleep(10);
      return undefined;
    })(),
  ]);
  if (result !== undefined) return { accepted: accepted(), end: result };
  call.end();
  return { accepted: accepted(), end: await end };
}

describe('the device stream over TLS', () => {
  it('takes readings from a client that trusts the server certificate; a plaintext client and one trusting another CA never connect', async () => {
    h = await startHarness({ tls: { cert: pki.server.cert, key: pki.server.key } });
    expect(h.server.tls).toBe(true);
    expect(await stream(h, credentials.createSsl(pki.ca))).toMatchObject({ accepted: true, end: { code: status.OK } });
    const plaintext = await stream(h, credentials.createInsecure());
    expect(plaintext).toMatchObject({ accepted: false, end: { code: status.UNAVAILABLE } });
    const untrusting = await stream(h, credentials.createSsl(stranger.ca));
    expect(untrusting).toMatchObject({ accepted: false, end: { code: status.UNAVAILABLE } });
  });
});

describe('the device stream over mutual TLS', () => {
  it("takes readings only with a certificate of the node's CA that names the device's operator", async () => {
    h = await startHarness({
      tls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca },
      limits: { requireOperatorCertificate: true },
    });
    const operator = pki.client(formatAddress(h.aggregatorAddress));
    const asOperator = await stream(h, credentials.createSsl(pki.ca, operator.key, operator.cert));
    expect(asOperator).toMatchObject({ accepted: true, end: { code: status.OK } });

    // Of the node's CA, but another account's: the device is not its to stream.
    const other = pki.client(formatAddress(new Uint8Array(20).fill(7)));
    const asOther = await stream(h, credentials.createSsl(pki.ca, other.key, other.cert));
    expect(asOther).toMatchObject({ accepted: false, end: { code: status.PERMISSION_DENIED } });
    expect(asOther.end?.details).toContain(ErrorCode.TX_UNAUTHORIZED);

    // No client certificate, or one of another CA (naming the operator): the handshake fails.
    const anonymous = await stream(h, credentials.createSsl(pki.ca));
    expect(anonymous).toMatchObject({ accepted: false, end: { code: status.UNAVAILABLE } });
    const forged = stranger.client(formatAddress(h.aggregatorAddress));
    const asForged = await stream(h, credentials.createSsl(pki.ca, forged.key, forged.cert));
    expect(asForged).toMatchObject({ accepted: false, end: { code: status.UNAVAILABLE } });
  });
});
