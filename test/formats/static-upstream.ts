import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticFile {
  body: Buffer | string;
  type?: string;
  lastModified?: Date;
}

/**
 * A plain HTTP file server on loopback (a helm repository, an npm registry
 * made of JSON packuments and tarballs): serves `files` by exact URL path,
 * 404 otherwise, and counts requests per path. Files may change while it runs.
 */
export class StaticUpstream {
  readonly files = new Map<string, StaticFile>();
  readonly requests = new Map<string, number>();
  url = '';
  private server?: Server;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
      const f = this.files.get(path);
      if (!f) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"not found"}');
        return;
      }
      const body = typeof f.body === 'string' ? Buffer.from(f.body) : f.body;
      const headers: Record<string, string | number> = {
        'content-type': f.type ?? 'application/octet-stream',
        'content-length': body.length,
      };
      if (f.lastModified) headers['last-modified'] = f.lastModified.toUTCString();
      res.writeHead(200, headers);
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }
}
