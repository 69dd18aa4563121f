import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PagingProxy {
  url: string;
  /** `METHOD path` of every request received, in order. */
  seen: string[];
  /** Page size when the client sends no `n` (distribution 3 uses 100; smaller here to get many pages). */
  pageSize: number;
  /** Where next links point: `''` for relative links (as distribution 3 sends), else an origin to prefix. */
  linkOrigin: string;
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of Debian's docker-registry that paginates
 * `tags/list` the way distribution 3, Harbor and ghcr.io do. distribution
 * 2.8 (Debian's) ignores `n` and `last` and always returns every tag, so this
 * cuts its real list into pages: sorted, `n` (else `pageSize`) tags after
 * `last`, and `Link: </v2/{name}/tags/list?n=..&last=..>; rel="next"` while
 * more follow. Everything else is forwarded untouched.
 */
export async function startPagingProxy(target: string): Promise<PagingProxy> {
  const t = new URL(target);
  const state: PagingProxy = {
    url: '',
    seen: [],
    pageSize: 50,
    linkOrigin: '',
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    state.seen.push(`${req.method} ${req.url}`);
    const u = new URL(req.url ?? '/', 'http://x');
    const tags = req.method === 'GET' && /^\/v2\/.+\/tags\/list$/.test(u.pathname);
    const up = request(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: tags ? u.pathname : req.url,
        headers: { ...req.headers, host: t.host },
      },
      (upRes) => {
        if (!tags || upRes.statusCode !== 200) {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          return void upRes.pipe(res);
        }
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name: string; tags: string[] };
          const n = u.searchParams.has('n') ? Number(u.searchParams.get('n')) : state.pageSize;
          const last = u.searchParams.get('last');
          const after = doc.tags.sort().filter((x) => last === null || x > last);
          const page = after.slice(0, n);
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (after.length > n && page.length > 0) {
            const next = `${u.pathname}?n=${n}&last=${encodeURIComponent(page.at(-1)!)}`;
            headers.link = `<${state.linkOrigin}${next}>; rel="next"`;
          }
          res.writeHead(200, headers).end(JSON.stringify({ name: doc.name, tags: page }));
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
