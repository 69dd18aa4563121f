import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';

/**
 * A test upstream: a real HTTP server on 127.0.0.1 that serves files from
 * memory (or generated on the fly, for sizes that must never be buffered) and
 * can be told to misbehave per path. It records every request so tests can
 * count upstream fetches exactly.
 */
export interface UpstreamFile {
  body: Buffer | GeneratedBody;
  contentType?: string;
  etag?: string;
  lastModified?: Date;
  headers?: Record<string, string>;
}

/** `size` bytes of deterministic pseudo-random content, streamed, never held whole. */
export interface GeneratedBody {
  size: number;
  seed: number;
}

export type Misbehaviour =
  /** Announce the full Content-Length, send `after` bytes, close cleanly (FIN). */
  | { kind: 'truncate'; after: number }
  /** Announce `contentLength` while sending the real body, then close. */
  | { kind: 'lie-length'; contentLength: number }
  /** Send `after` bytes, then reset the connection (RST). */
  | { kind: 'reset'; after: number }
  /** Send `after` bytes, then nothing, forever (until the client gives up). */
  | { kind: 'stall'; after: number }
  /** Answer with this status (429, 500, 503…) and a short body. */
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Serve the body with one byte flipped in the middle. */
  | { kind: 'corrupt' }
  /** Redirect (302 by default) to `to`, an absolute URL. */
  | { kind: 'redirect'; to: string; status?: number }
  /** Serve normally but at most `bytesPerSecond`. */
  | { kind: 'slow'; bytesPerSecond: number }
  /** Wait `ms` before sending the headers. */
  | { kind: 'delay'; ms: number };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** performance.now() when the response was completely handed to the socket (unset until then). */
  finishedAt?: number;
}

const block = (seed: number) => {
  // One 1 MiB block per seed, repeated: cheap to generate at line rate, distinct per seed.
  const b = randomBytes(1024 * 1024);
  b.writeUInt32BE(seed >>> 0, 0);
  return b;
};
const blocks = new Map<number, Buffer>();

/** A Readable of the generated body, in 256 KiB chunks. */
export function generatedStream(g: GeneratedBody, opts: { start?: number } = {}): Readable {
  let b = blocks.get(g.seed);
  if (!b) {
    b = block(g.seed);
    blocks.set(g.seed, b);
  }
  const data = b;
  let pos = opts.start ?? 0;
  return new Readable({
    highWaterMark: 256 * 1024,
    read() {
      if (pos >= g.size) return void this.push(null);
      const off = pos % data.length;
      const n = Math.min(256 * 1024, data.length - off, g.size - pos);
      pos += n;
      this.push(data.subarray(off, off + n));
    },
  });
}

/** sha256 (hex) of a body, streaming generated ones. */
export async function sha256Of(body: Buffer | GeneratedBody): Promise<string> {
  const h = createHash('sha256');
  if (Buffer.isBuffer(body)) return h.update(body).digest('hex');
  for await (const c of generatedStream(body)) h.update(c as Buffer);
  return h.digest('hex');
}

export class TestUpstream {
  readonly requests: RecordedRequest[] = [];
  private readonly files = new Map<string, UpstreamFile>();
  private readonly faults = new Map<string, { m: Misbehaviour; times: number }>();
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  url = '';
  port = 0;

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /** Serve `file` at `path` (with a leading slash). Replaces any previous file. */
  set(path: string, file: UpstreamFile | Buffer | string): this {
    const f = typeof file === 'string' || Buffer.isBuffer(file) ? { body: Buffer.from(file) } : file;
    this.files.set(path, f);
    return this;
  }

  delete(path: string): this {
    this.files.delete(path);
    return this;
  }

  /** Misbehave on the next `times` requests for `path` (default: every request until `behave(path)` clears it). */
  behave(path: string, m?: Misbehaviour, times = Number.POSITIVE_INFINITY): this {
    if (m) this.faults.set(path, { m, times });
    else this.faults.delete(path);
    return this;
  }

  /** How many requests for `path` (with this method) arrived. */
  count(path: string, method = 'GET'): number {
    return this.requests.filter((r) => r.path === path && r.method === method).length;
  }

  /** Stop accepting and cut every open connection (stalled ones included). */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURI((req.url ?? '/').split('?')[0]!);
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers };
    this.requests.push(recorded);
    res.once('finish', () => {
      recorded.finishedAt = performance.now();
    });
    const fault = this.takeFault(path);
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'text/plain', ...fault.headers });
      return void res.end(`upstream says ${fault.status}\n`);
    }
    if (fault?.kind === 'redirect') {
      res.writeHead(fault.status ?? 302, { location: fault.to });
      return void res.end();
    }
    const file = this.files.get(path);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return void res.end('not found\n');
    }
    const size = Buffer.isBuffer(file.body) ? file.body.length : file.body.size;
    const headers: Record<string, string> = {
      'content-type': file.contentType ?? 'application/octet-stream',
      ...(file.etag ? { etag: file.etag } : {}),
      ...(file.lastModified ? { 'last-modified': file.lastModified.toUTCString() } : {}),
      ...file.headers,
    };
    if (notModified(req, file)) {
      res.writeHead(304, headers);
      return void res.end();
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': String(size) });
      return void res.end();
    }
    const body = () => (Buffer.isBuffer(file.body) ? Readable.from([file.body]) : generatedStream(file.body));
    await this.send(req, res, { headers, size, body, fault });
  }

  private async send(
    req: IncomingMessage,
    res: ServerResponse,
    o: { headers: Record<string, string>; size: number; body: () => Readable; fault?: Misbehaviour },
  ): Promise<void> {
    const socket = req.socket;
    const f = o.fault;
    if (f?.kind === 'lie-length' || f?.kind === 'truncate' || f?.kind === 'reset' || f?.kind === 'stall') {
      // Raw framing: Node's own response object would refuse to lie.
      const length = f.kind === 'lie-length' ? f.contentLength : o.size;
      const head = Object.entries({ ...o.headers, 'content-length': String(length) })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`HTTP/1.1 200 OK\r\n${head}connection: close\r\n\r\n`);
      const limit = f.kind === 'lie-length' ? o.size : f.after;
      let sent = 0;
      for await (const chunk of o.body()) {
        const c = chunk as Buffer;
        const n = Math.min(c.length, limit - sent);
        if (n > 0 && !socket.write(c.subarray(0, n))) await new Promise((r) => socket.once('drain', r));
        sent += n;
        if (sent >= limit) break;
      }
      if (f.kind === 'reset') socket.resetAndDestroy();
      else if (f.kind !== 'stall') socket.end();
      return;
    }
    res.writeHead(200, { ...o.headers, 'content-length': String(o.size) });
    let stream = o.body();
    if (f?.kind === 'corrupt') stream = stream.compose(corruptMiddle(o.size)) as unknown as Readable;
    if (f?.kind === 'slow') stream = stream.compose(throttle(f.bytesPerSecond)) as unknown as Readable;
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  private takeFault(path: string): Misbehaviour | undefined {
    const f = this.faults.get(path);
    if (!f) return undefined;
    if (--f.times <= 0) this.faults.delete(path);
    return f.m;
  }
}

function notModified(req: IncomingMessage, file: UpstreamFile): boolean {
  const inm = req.headers['if-none-match'];
  if (inm && file.etag) return inm.split(',').some((t) => t.trim() === file.etag);
  const ims = req.headers['if-modified-since'];
  if (ims && file.lastModified) return file.lastModified.getTime() <= new Date(ims).getTime();
  return false;
}

function corruptMiddle(size: number) {
  const at = Math.floor(size / 2);
  return async function* (source: AsyncIterable<Buffer>) {
    let pos = 0;
    for await (const chunk of source) {
      if (at >= pos && at < pos + chunk.length) {
        const copy = Buffer.from(chunk);
        copy[at - pos] = copy[at - pos]! ^ 0xff;
        yield copy;
      } else yield chunk;
      pos += chunk.length;
    }
  };
}

function throttle(bytesPerSecond: number) {
  return async function* (source: AsyncIterable<Buffer>) {
    const start = Date.now();
    let sent = 0;
    for await (const chunk of source) {
      for (let i = 0; i < chunk.length; i += 16 * 1024) {
        const part = chunk.subarray(i, i + 16 * 1024);
        sent += part.length;
        const due = start + (sent / bytesPerSecond) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        yield part;
      }
    }
  };
}
