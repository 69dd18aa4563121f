import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  url: string;
  host: string;
  /** `METHOD path` of every request forwarded, in order. */
  seen: string[];
  count(method: string, pathPattern: RegExp): number;
  close(): Promise<void>;
}

/**
 * A plain HTTP reverse proxy in front of an upstream registry that records
 * every request, so tests count upstream fetches where they happen (the
 * spy-around-the-real-thing approach of distribution's proxy tests).
 * `holdMs` delays forwarding each request (recorded at once), a slow
 * upstream that lets concurrent client requests pile up behind one fetch.
 */
export async function startCountingProxy(
  target: string,
  opts: { holdMs?: number } = {},
): Promise<CountingProxy> {
  const t = new URL(target);
  const seen: string[] = [];
  const server: Server = createServer(async (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (opts.holdMs) await new Promise((resolve) => setTimeout(resolve, opts.holdMs));
    const up = request(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: t.host },
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    seen,
    count: (method, pattern) =>
      seen.filter((s) => s.startsWith(`${method} `) && pattern.test(s.slice(method.length + 1))).length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
