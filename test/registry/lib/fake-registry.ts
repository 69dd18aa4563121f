import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRegistry {
  url: string;
  /** Requests the registry saw: method, path, and the Authorization scheme (never the secret). */
  seen: { method: string; path: string; auth?: string }[];
  /** Requests the CDN (the redirect target, another origin) saw, with their Authorization header if any. */
  cdnSeen: { path: string; authorization?: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/**
 * A registry that misbehaves on purpose, for what docker-registry cannot be
 * made to do: blobs redirected to a CDN on another origin (as Docker Hub and
 * ghcr.io do), blobs whose bytes do not match their digest, and bearer-token
 * auth with the token endpoint on the registry's own host.
 * - `GET /token` needs basic `user:pass` and grants token `T`;
 * - everything under `/v2/{name}/` needs `Bearer T`, else 401 with a challenge
 *   (`auth: 'basic'`: needs basic `user:pass` itself, else 401 `Basic`);
 * - `blobs` listed in `redirect` answer 307 to the CDN; those in `corrupt`
 *   answer 200 with other bytes than the digest names.
 */
export async function startFakeRegistry(opts: {
  blobs: Record<string, Buffer>;
  corrupt?: Record<string, Buffer>;
  redirect?: string[];
  auth?: 'bearer' | 'basic';
}): Promise<FakeRegistry> {
  const seen: FakeRegistry['seen'] = [];
  const cdnSeen: FakeRegistry['cdnSeen'] = [];
  const cdn = createServer((req, res) => {
    cdnSeen.push({ path: req.url ?? '', authorization: req.headers.authorization, headers: req.headers });
    const digest = (req.url ?? '').split('/').pop()?.split('?')[0] ?? '';
    const body = opts.blobs[digest];
    if (!body) return void res.writeHead(404).end();
    res
      .writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' })
      .end(body);
  });
  await listen(cdn);
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  let url = '';
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const auth = req.headers.authorization;
    seen.push({ method: req.method ?? '', path, auth: auth?.split(' ')[0] });
    if (path === '/token') {
      if (auth !== `Basic ${Buffer.from('user:pass').toString('base64')}`)
        return void res.writeHead(401).end();
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"token":"T","expires_in":300}');
    }
    if (path === '/v2/') return void res.writeHead(200).end('{}');
    if (opts.auth === 'basic' && auth !== `Basic ${Buffer.from('user:pass').toString('base64')}`) {
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
    }
    if (opts.auth !== 'basic' && auth !== 'Bearer T') {
      const scope = /^\/v2\/(.+)\/(?:blobs|manifests|tags)\//.exec(path)?.[1];
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${url}/token",service="fake",scope="repository:${scope}:pull"`,
      });
      return void res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path)?.[1];
    if (digest && opts.redirect?.includes(digest)) {
      return void res.writeHead(307, { location: `${cdnUrl}/blob/${digest}?X-Signature=abc` }).end();
    }
    const body = digest ? (opts.corrupt?.[digest] ?? opts.blobs[digest]) : undefined;
    if (!body) return void res.writeHead(404).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    res.writeHead(200, { 'content-length': String(body.length), 'docker-content-digest': digest! }).end(body);
  });
  await listen(server);
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    cdnSeen,
    close: async () => {
      for (const s of [server, cdn]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}

function listen(s: Server): Promise<void> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
}
