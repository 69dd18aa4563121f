import { LoopbackServer } from './loopback-server.ts';

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
export class StaticUpstream extends LoopbackServer {
  readonly files = new Map<string, StaticFile>();

  async start(): Promise<void> {
    await this.listen((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      this.record(path);
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
  }
}
