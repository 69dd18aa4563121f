import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type Koa from 'koa';
import { OciError } from './errors.ts';

/** Whether the request carries a body (a Content-Length above 0, or chunked transfer encoding). */
export function hasBody(ctx: Koa.Context): boolean {
  const length = ctx.get('content-length');
  if (length !== '') return Number(length) > 0;
  return ctx.get('transfer-encoding') !== '';
}

/** The declared Content-Length, when there is a valid one. */
export function contentLength(ctx: Koa.Context): number | undefined {
  const v = ctx.get('content-length');
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Every value of a query parameter (`?digest=a&digest=b`). */
export function queryValues(ctx: Koa.Context, name: string): string[] {
  const v = ctx.query[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The single value of a query parameter, or `undefined`. */
export function queryValue(ctx: Koa.Context, name: string): string | undefined {
  return queryValues(ctx, name)[0];
}

/**
 * A chunk's `Content-Range` (distribution spec, "Pushing a blob in chunks":
 * `^[0-9]+-[0-9]+$`, inclusive). `bytes=` / `bytes ` prefixes some clients
 * send are accepted. Returns `undefined` when absent; throws RANGE_INVALID
 * (416) when malformed, with the session's current `Range`.
 */
export function parseContentRange(
  header: string,
  currentRange: Record<string, string>,
): { start: number; end: number } | undefined {
  if (header === '') return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(header.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new OciError('RANGE_INVALID', `malformed Content-Range ${JSON.stringify(header.slice(0, 64))}`, {
      headers: currentRange,
    });
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

/** The upload status headers: `Range: 0-<last byte>` (`0-0` before any byte, as distribution sends). */
export function uploadRangeHeader(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}

/**
 * Pass bytes through, failing with 413 SIZE_INVALID once more than `max`
 * bytes went by (0 = unlimited), so a stream into the blob store errors and
 * leaves nothing visible.
 */
export function limitBytes(max: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (max > 0 && seen > max) {
        cb(new OciError('SIZE_INVALID', `${what} exceeds the limit of ${max} bytes`, { status: 413 }));
        return;
      }
      cb(null, chunk);
    },
  });
}

/**
 * The request body as a stream limited to `max` bytes (0 = unlimited). A
 * client that disconnects errors the stream (so a store write fails and
 * leaves nothing); going over the limit errors it with 413 while the rest of
 * the request is drained, so the response can still be sent.
 */
export function requestBody(ctx: Koa.Context, max: number, what: string): Readable {
  const req = ctx.req;
  const limiter = limitBytes(max, what);
  const onClose = () => {
    if (!req.complete) limiter.destroy(new Error('the client closed the request before its end'));
  };
  req.once('close', onClose);
  req.once('error', (err) => limiter.destroy(err));
  limiter.once('error', () => {
    req.off('close', onClose);
    req.unpipe(limiter);
    req.resume();
  });
  req.pipe(limiter);
  return limiter;
}

/**
 * Read a request body whole, failing with 413 beyond `max` bytes. For
 * manifests only; blobs always stream. On overflow the rest of the body is
 * drained (not destroyed) so the 413 still reaches the client.
 */
export function readBody(ctx: Koa.Context, max: number, what: string): Promise<Buffer> {
  const tooLarge = (size: number) =>
    new OciError('SIZE_INVALID', `${what} of ${size}+ bytes exceeds the limit of ${max} bytes`, {
      status: 413,
    });
  const req = ctx.req;
  const declared = contentLength(ctx);
  if (declared !== undefined && declared > max) {
    req.resume();
    return Promise.reject(tooLarge(declared));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      reject(tooLarge(size));
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}
