import type Koa from 'koa';
import { decideRange } from '../api/ranges.ts';
import { type BlobStore, blobKey } from '../storage/blob-store.ts';
import { NotFoundError } from '../storage/errors.ts';
import { OciError } from './errors.ts';

export interface StoredObject {
  /** sha256 hex: the blob store key and the `Docker-Content-Digest`. */
  sha256: string;
  size: number;
  contentType: string;
  /** Serve byte ranges (blobs); manifests are always served whole. */
  ranges: boolean;
}

/**
 * Serve an object of the content-addressed store: `Docker-Content-Digest`,
 * a strong ETag (the digest), `If-None-Match` → 304, one `Range` → 206,
 * unsatisfiable → 416 RANGE_INVALID with `Content-Range: bytes *\/size`.
 * HEAD sends the headers only. A blob the index names but the store lost
 * answers `missing` (the caller decides which 404 code fits).
 */
export async function serveStored(
  ctx: Koa.Context,
  blobs: BlobStore,
  o: StoredObject,
  missing: () => OciError,
): Promise<void> {
  const digest = `sha256:${o.sha256}`;
  const etag = `"${digest}"`;
  ctx.set('Docker-Content-Digest', digest);
  ctx.set('ETag', etag);
  ctx.set('Content-Type', o.contentType);
  if (o.ranges) ctx.set('Accept-Ranges', 'bytes');
  // Content addressed: the bytes under a digest never change.
  ctx.set('Cache-Control', 'max-age=31536000');
  if (noneMatch(ctx.get('if-none-match'), etag)) {
    ctx.status = 304;
    return;
  }
  const range =
    o.ranges && ctx.get('range') && ifRangeOk(ctx.get('if-range'), etag) ? ctx.get('range') : undefined;
  const decision = decideRange(range, o.size);
  if (decision.kind === 'unsatisfiable') {
    throw new OciError('RANGE_INVALID', `range outside the ${o.size} byte blob`, {
      headers: { 'Content-Range': `bytes */${o.size}` },
    });
  }
  const partial = decision.kind === 'partial' ? { start: decision.start, end: decision.end } : undefined;
  const length = partial ? partial.end - partial.start + 1 : o.size;
  if (partial) {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${partial.start}-${partial.end}/${o.size}`);
  } else {
    ctx.status = 200;
  }
  if (ctx.method === 'HEAD') {
    ctx.set('Content-Length', String(length));
    return;
  }
  let body: Awaited<ReturnType<BlobStore['get']>>['body'];
  try {
    // A zero-length object cannot be read with a range (BlobStore contract).
    ({ body } = await blobs.get(blobKey(o.sha256), o.size > 0 && partial ? { range: partial } : undefined));
  } catch (err) {
    if (err instanceof NotFoundError) throw missing();
    throw err;
  }
  ctx.body = body;
  ctx.length = length;
  ctx.set('Content-Type', o.contentType);
}

function noneMatch(header: string, etag: string): boolean {
  if (header === '') return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** If-Range with our strong ETag: honour the Range only while it still matches (a date never does). */
function ifRangeOk(ifRange: string, etag: string): boolean {
  return ifRange === '' || ifRange.trim() === etag;
}
