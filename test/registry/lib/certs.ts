import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCert {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

/**
 * A self-signed certificate for 127.0.0.1 (openssl), valid for two days. The
 * registry tests use one certificate for the upstream's TLS, the token
 * server's TLS and the token signing key (distribution's `rootcertbundle`).
 */
export async function makeCert(dir: string): Promise<TestCert> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  return {
    certPath,
    keyPath,
    certPem: await readFile(certPath, 'utf8'),
    keyPem: await readFile(keyPath, 'utf8'),
  };
}
