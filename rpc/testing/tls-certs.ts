import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away PKI for TLS tests, made with the openssl CLI (node:crypto parses X.509 but
 * cannot issue certificates): a CA, a server certificate for 127.0.0.1 / localhost, and
 * client certificates with the subject CN asked for. P-256 keys: fast to make. Every file is
 * written to a temp dir that `remove()` deletes.
 */

export interface KeyAndCert {
  readonly key: Buffer;
  readonly cert: Buffer;
}

export interface TestPki {
  readonly ca: Buffer;
  readonly server: KeyAndCert;
  /** A client certificate signed by this CA, subject CN = `commonName`. */
  client(commonName: string): KeyAndCert;
  /** Removes the temp dir. */
  remove(): void;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function issue(dir: string, name: string, cn: string, extensions: string): KeyAndCert {
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
  ]);
  return { key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) };
}

/** A new CA with its server certificate; `name` tells two CAs apart in their subjects. */
export function createTestPki(name = 'joule-test-ca'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'joule-pki-'));
  try {
    openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', `/CN=${name}`]);
    const server = issue(dir, 'server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    let clients = 0;
    return {
      ca: readFileSync(join(dir, 'ca.pem')),
      server,
      client: (cn) => issue(dir, `client-${clients++}`, cn, 'extendedKeyUsage=clientAuth\n'),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
