import type { Readable } from 'node:stream';
import type Koa from 'koa';
import { ApiError } from '../http/errors.ts';
import type { ByteRange } from '../storage/blob-store.ts';
import { NotFoundError } from '../storage/errors.ts';
import type { CachedObject, CacheEngine, CacheRequest, CacheResult } from './engine.ts';
import { batched } from './metrics.ts';

/**
 * Answer a GET or HEAD from the cache engine: conditional requests
 * (If-None-Match, If-Modified-Since), single byte ranges with If-Range, and
 * the headers clients and tools rely on (`X-Artifact-Source`, `ETag`,
 * `Content-Length`, `Accept-Ranges`, `Last-Modified`, `X-Checksum-Sha256`,
 * `X-Artifact-Stale`). A cached entry whose blob has vanished is dropped and
 * fetched again, once.
 */
export async function serveFromCache(
  ctx: Koa.Context,
  engine: CacheEngine,
  req: CacheRequest,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const result = await engine.fetch(req);
    try {
      await respond(ctx, result);
      return;
    } catch (err) {
      if (!(err instanceof NotFoundError) || result.source !== 'cache' || attempt > 0) throw err;
      await engine.forget(req.remote.name, req.path);
    }
  }
}

/** Write `result` to the Koa response. Exported for routes that build their own CacheResult flow. */
export async function respond(ctx: Koa.Context, result: CacheResult): Promise<void> {
  const o = result.object;
  setHeaders(ctx, result);
  const head = ctx.method === 'HEAD';
  if (notModified(ctx, o)) {
    o.body?.destroy();
    ctx.status = 304;
    return;
  }
  if (o.body) return respondStreaming(ctx, o, o.body, head);
  const size = o.size ?? 0;
  const range = pickRange(ctx, o, size);
  if (range === 'unsatisfiable') {
    throw new ApiError('RANGE_NOT_SATISFIABLE', undefined, {
      headers: { 'Content-Range': `bytes */${size}` },
    });
  }
  if (head) {
    ctx.status = range ? 206 : 200;
    if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    ctx.length = range ? range.end - range.start + 1 : size;
    return;
  }
  ctx.status = range ? 206 : 200;
  if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
  if (o.bytes) {
    const body = range ? o.bytes.subarray(range.start, range.end + 1) : o.bytes;
    o.countServed(body.length);
    ctx.body = body;
    return;
  }
  const got = await o.open!(range);
  ctx.body = counted(got.body, (n) => o.countServed(n));
  ctx.length = range ? range.end - range.start + 1 : size;
}

/**
 * Mid-fill: the body as it streams. A range is served from the spool too when
 * the upstream declared the length (a reader from `start` that waits for the
 * bytes, and, like every reader, ends only once the whole body is verified);
 * without a length, the whole body.
 */
function respondStreaming(ctx: Koa.Context, o: CachedObject, body: Readable, head: boolean): void {
  const size = o.size;
  const range = size !== undefined && o.openRange ? pickRange(ctx, o, size) : undefined;
  if (range === 'unsatisfiable') {
    body.destroy();
    throw new ApiError('RANGE_NOT_SATISFIABLE', undefined, {
      headers: { 'Content-Range': `bytes */${size}` },
    });
  }
  ctx.status = range ? 206 : 200;
  if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
  ctx.set('Accept-Ranges', size !== undefined && o.openRange ? 'bytes' : 'none');
  const length = range ? range.end - range.start + 1 : size;
  if (head) {
    body.destroy();
    if (length !== undefined) ctx.length = length;
    return;
  }
  // The range reader takes its own reference before the whole-body reader lets go of the spool.
  const part = range ? o.openRange!(range) : undefined;
  if (part) body.destroy();
  ctx.body = part ?? body;
  if (length !== undefined) ctx.length = length;
}

function setHeaders(ctx: Koa.Context, result: CacheResult): void {
  const o = result.object;
  for (const [k, v] of Object.entries(o.headers)) ctx.set(k, v);
  ctx.set('X-Artifact-Source', result.source);
  // Stored types are complete (with any charset): skip Koa's mime lookup on every hit.
  ctx.set('Content-Type', o.contentType);
  ctx.set('Accept-Ranges', 'bytes');
  if (o.digest) {
    ctx.set('ETag', `"${o.digest}"`);
    ctx.set('X-Checksum-Sha256', o.digest);
  }
  if (o.lastModified) ctx.set('Last-Modified', o.lastModified);
  if (result.stale) ctx.set('X-Artifact-Stale', 'true');
}

/** RFC 9110 §13.1.2/§13.1.3: If-None-Match (weak comparison) wins over If-Modified-Since. */
function notModified(ctx: Koa.Context, o: CachedObject): boolean {
  const inm = ctx.get('if-none-match');
  if (inm) {
    if (!o.digest) return false;
    if (inm.trim() === '*') return true;
    return inm.split(',').some((t) => opaque(t) === o.digest);
  }
  const ims = ctx.get('if-modified-since');
  if (ims && o.lastModified) {
    const since = Date.parse(ims);
    const modified = Date.parse(o.lastModified);
    return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
  }
  return false;
}

/**
 * One `bytes=` range, or undefined to serve the whole object. Multiple ranges
 * and malformed headers are ignored (RFC 9110 §14.2 allows it); a failed
 * If-Range also means the whole object.
 */
export function pickRange(
  ctx: Koa.Context,
  o: CachedObject,
  size: number,
): (ByteRange & { end: number }) | 'unsatisfiable' | undefined {
  const header = ctx.get('range');
  if (!header) return undefined;
  const ifRange = ctx.get('if-range');
  if (ifRange && !ifRangeMatches(ifRange, o)) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** If-Range needs a strong match: our ETag exactly, or the exact Last-Modified date. */
function ifRangeMatches(value: string, o: CachedObject): boolean {
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith('W/'))
    return !v.startsWith('W/') && o.digest !== undefined && opaque(v) === o.digest;
  return o.lastModified !== undefined && Date.parse(v) === Date.parse(o.lastModified);
}

function opaque(tag: string): string {
  return tag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

/**
 * Count bytes as they leave, without an extra stream in the pipe: the stream
 * is paused first, so the listener does not start the flow; the consumer's
 * pipe resumes it and both see every chunk. Reported in 1 MiB steps, the
 * rest when the stream closes (ended or destroyed).
 */
function counted(stream: Readable, onBytes: (n: number) => void): Readable {
  const bytes = batched(onBytes);
  stream.pause();
  stream.on('data', (c: Buffer) => bytes.add(c.length));
  stream.once('close', () => bytes.flush());
  return stream;
}
