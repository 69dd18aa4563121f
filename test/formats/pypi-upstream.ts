import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer } from './loopback-server.ts';
import type { Distribution } from './python-packages.ts';

/** A file of the upstream index: a distribution, when it was uploaded, and optionally bytes served instead of it. */
export interface UpstreamFile {
  project: string;
  dist: Distribution;
  uploadedAt: Date;
  /** Served in place of `dist.bytes` (an integrity failure: the index still names the real sha256). */
  corruptWith?: Buffer;
}

/**
 * A PEP 503/691 index on loopback, as PyPI lays it out: pages under
 * `/simple/`, negotiated by Accept (PEP 691 JSON with PEP 700 upload-time, or
 * PEP 503 HTML), files under `/packages/{xx}/{file}` with Last-Modified and
 * PEP 658 `.metadata` files beside wheels. It counts every request by path.
 */
export class PypiUpstream extends LoopbackServer {
  readonly files: UpstreamFile[] = [];
  /** Pages served as given (malformed or oversized upstream answers), by URL path. */
  readonly rawPages = new Map<string, { body: string; type: string }>();

  add(file: UpstreamFile): void {
    this.files.push(file);
  }

  async start(): Promise<void> {
    await this.listen((req, res) => {
      this.handle(req, res);
    });
  }

  filePath(f: UpstreamFile): string {
    return `/packages/${f.dist.sha256.slice(0, 2)}/${f.dist.filename}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.record(path);
    const json = (req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json');
    const raw = this.rawPages.get(path);
    if (raw) {
      res.writeHead(200, { 'content-type': raw.type });
      res.end(raw.body);
      return;
    }
    if (path === '/simple/') {
      this.page(res, json, this.rootPage(json));
      return;
    }
    const m = /^\/simple\/([^/]+)\/$/.exec(path);
    if (m) {
      const files = this.files.filter((f) => f.project === m[1]);
      if (files.length === 0) this.notFound(res);
      else this.page(res, json, this.projectPage(m[1]!, files, json));
      return;
    }
    for (const f of this.files) {
      const p = this.filePath(f);
      const body =
        path === p ? (f.corruptWith ?? f.dist.bytes) : path === `${p}.metadata` ? f.dist.metadata : undefined;
      if (body) {
        this.send(res, body, path === p ? 'application/octet-stream' : 'text/plain', f.uploadedAt);
        return;
      }
    }
    this.notFound(res);
  }

  private rootPage(json: boolean): string {
    const names = [...new Set(this.files.map((f) => f.project))];
    if (json)
      return JSON.stringify({ meta: { 'api-version': '1.1' }, projects: names.map((name) => ({ name })) });
    return `<html><body>${names.map((n) => `<a href="/simple/${n}/">${n}</a>`).join('\n')}</body></html>`;
  }

  private projectPage(project: string, files: UpstreamFile[], json: boolean): string {
    if (json) {
      return JSON.stringify({
        meta: { 'api-version': '1.1' },
        name: project,
        files: files.map((f) => ({
          filename: f.dist.filename,
          // Relative, as PyPI's own pages are: the proxy must resolve it against the page URL.
          url: `../..${this.filePath(f)}`,
          hashes: { sha256: f.dist.sha256 },
          'upload-time': f.uploadedAt.toISOString(),
          size: f.dist.bytes.length,
          ...(f.dist.metadata ? { 'core-metadata': { sha256: sha256(f.dist.metadata) } } : {}),
        })),
      });
    }
    const links = files.map((f) => {
      const meta = f.dist.metadata ? ` data-dist-info-metadata="sha256=${sha256(f.dist.metadata)}"` : '';
      return `<a href="${this.url}${this.filePath(f)}#sha256=${f.dist.sha256}"${meta}>${f.dist.filename}</a><br/>`;
    });
    return `<!DOCTYPE html><html><body><h1>Links for ${project}</h1>\n${links.join('\n')}\n</body></html>`;
  }

  private page(res: ServerResponse, json: boolean, body: string): void {
    res.writeHead(200, {
      'content-type': json ? 'application/vnd.pypi.simple.v1+json' : 'text/html; charset=utf-8',
      vary: 'Accept',
    });
    res.end(body);
  }

  private send(res: ServerResponse, body: Buffer, type: string, modified: Date): void {
    res.writeHead(200, {
      'content-type': type,
      'content-length': body.length,
      'last-modified': modified.toUTCString(),
    });
    res.end(body);
  }

  private notFound(res: ServerResponse): void {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
