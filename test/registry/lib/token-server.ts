import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCert } from './certs.ts';

export interface TokenServer {
  /** The realm: `https://127.0.0.1:PORT/token`. */
  realm: string;
  service: string;
  issuer: string;
  /** Every token request: the scopes asked for and the user that authenticated (if any). */
  requests: { scopes: string[]; user?: string; ok: boolean }[];
  close(): Promise<void>;
}

/**
 * A distribution token server (`docs/spec/auth/token.md`) over HTTPS: checks
 * basic credentials, and grants the requested repository actions in an RS256
 * JWT whose `x5c` header carries the signing certificate, which the registry
 * trusts through its `rootcertbundle`.
 */
export async function startTokenServer(opts: {
  cert: TestCert;
  users: Record<string, string>;
  expiresInS?: number;
}): Promise<TokenServer> {
  const service = 'orchard-test-registry';
  const issuer = 'orchard-test-issuer';
  const key = createPrivateKey(opts.cert.keyPem);
  const x5c = opts.cert.certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer({ cert: opts.cert.certPem, key: opts.cert.keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const scopes = url.searchParams.getAll('scope');
    const user = basicUser(req.headers.authorization, opts.users);
    const ok = url.pathname === '/token' && user !== false;
    requests.push({ scopes, user: user || undefined, ok });
    if (!ok) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.flatMap((s) => {
      const [type, name, actions] = s.split(':');
      return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const token = jwt({ alg: 'RS256', typ: 'JWT', x5c: [x5c] }, claims, key);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        JSON.stringify({ token, expires_in: opts.expiresInS ?? 300, issued_at: new Date().toISOString() }),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `https://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The authenticated user, `undefined` for anonymous, `false` for wrong credentials. */
function basicUser(header: string | undefined, users: Record<string, string>): string | undefined | false {
  if (!header) return Object.keys(users).length === 0 ? undefined : false;
  const m = /^Basic (.+)$/i.exec(header);
  if (!m) return false;
  const [user, pass] = Buffer.from(m[1]!, 'base64').toString('utf8').split(':');
  return user !== undefined && users[user] === pass ? user : false;
}

function jwt(header: object, claims: object, key: ReturnType<typeof createPrivateKey>): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}
