import { randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Koa from 'koa';
import type { RemoteConfig } from '../config/index.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { type BlobStore, blobKey } from '../storage/blob-store.ts';
import { DigestMismatchError } from '../storage/errors.ts';
import { DigestingTransform, IntegrityError } from './hashing.ts';
import { respond } from './serve.ts';

interface LocalFile extends Record<string, unknown> {
  digest: string;
  size: number;
  content_type: string | null;
  updated_at: Date;
}

export interface LocalDeps {
  db: Database;
  blobs: BlobStore;
  /** Largest accepted upload in bytes; 0 = unlimited. */
  maxUploadBytes: number;
}

const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * `type: local` remotes: files uploaded with PUT and served with GET/HEAD,
 * stored content-addressed in the same BlobStore as cached files, indexed in
 * `local_files` (which no cache flush ever touches). DELETE drops the index
 * row; the blob stays until garbage collection finds it unreferenced.
 */
export async function putLocal(
  ctx: Koa.Context,
  deps: LocalDeps,
  remote: RemoteConfig,
  path: string,
): Promise<void> {
  if (path.endsWith('/')) throw new ApiError('INVALID_PATH', 'a file path cannot end with a slash');
  const declared = ctx.get('content-length') ? Number(ctx.get('content-length')) : undefined;
  if (deps.maxUploadBytes > 0 && declared !== undefined && declared > deps.maxUploadBytes) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `uploads are limited to ${deps.maxUploadBytes} bytes`);
  }
  const claimed = ctx.get('x-checksum-sha256').trim().toLowerCase() || undefined;
  if (claimed !== undefined && !sha256Pattern.test(claimed)) {
    throw new ApiError('BAD_REQUEST', 'X-Checksum-Sha256 must be 64 hexadecimal characters');
  }
  const contentType = ctx.get('content-type') || 'application/octet-stream';
  const hasher = new DigestingTransform({
    expected: claimed ? { algorithm: 'sha256', hex: claimed } : undefined,
  });
  const upload = pipeline(ctx.req, sizeLimit(deps.maxUploadBytes), hasher);
  upload.catch(() => {}); // awaited below; a failure during the stat must not count as unhandled
  // Identical bytes are stored once: when the claimed blob exists, only verify the upload.
  const exists = claimed !== undefined && (await deps.blobs.stat(blobKey(claimed))) !== undefined;
  const key = claimed ? blobKey(claimed) : `tmp/local-upload/${randomUUID()}`;
  try {
    if (exists) {
      hasher.resume();
      await upload;
    } else {
      const [stored, read] = await Promise.allSettled([
        deps.blobs.put(key, hasher, { expectedSha256: claimed, size: declared, contentType }),
        upload,
      ]);
      // The upload's own failure (mismatch, size limit, client gone) explains the store's.
      if (read.status === 'rejected') throw read.reason;
      if (stored.status === 'rejected') throw stored.reason;
      if (!claimed) await promote(deps.blobs, key, blobKey(hasher.sha256));
    }
  } catch (err) {
    if (!claimed) await deps.blobs.delete(key).catch(() => {});
    throw uploadError(err);
  }
  const created = await upsertLocal(deps.db, remote.name, path, hasher.sha256, hasher.size, contentType);
  ctx.status = created ? 201 : 200;
  ctx.set('ETag', `"${hasher.sha256}"`);
  ctx.body = {
    remote: remote.name,
    path,
    sha256: hasher.sha256,
    size: hasher.size,
    content_type: contentType,
  };
}

export async function getLocal(
  ctx: Koa.Context,
  deps: LocalDeps,
  remote: RemoteConfig,
  path: string,
): Promise<void> {
  const { rows } = await deps.db.query<LocalFile>(
    'SELECT digest, size, content_type, updated_at FROM local_files WHERE remote = $1 AND path = $2',
    [remote.name, path],
  );
  const f = rows[0];
  if (!f) throw new ApiError('NOT_FOUND', `${path} does not exist in remote ${remote.name}`);
  await respond(ctx, {
    source: 'cache',
    result: 'hit',
    stale: false,
    object: {
      size: Number(f.size),
      digest: f.digest,
      contentType: f.content_type ?? 'application/octet-stream',
      lastModified: f.updated_at.toUTCString(),
      headers: {},
      open: (range) => deps.blobs.get(blobKey(f.digest), { range }),
      countServed: () => {},
    },
  });
}

export async function deleteLocal(
  ctx: Koa.Context,
  deps: LocalDeps,
  remote: RemoteConfig,
  path: string,
): Promise<void> {
  const { rowCount } = await deps.db.query('DELETE FROM local_files WHERE remote = $1 AND path = $2', [
    remote.name,
    path,
  ]);
  if (rowCount === 0) throw new ApiError('NOT_FOUND', `${path} does not exist in remote ${remote.name}`);
  ctx.status = 204;
}

async function upsertLocal(
  db: Database,
  remote: string,
  path: string,
  digest: string,
  size: number,
  contentType: string,
): Promise<boolean> {
  // xmax = 0 only on a freshly inserted row: tells created (201) from replaced (200).
  const { rows } = await db.query<{ inserted: boolean }>(
    `INSERT INTO local_files (remote, path, digest, size, content_type)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (remote, path) DO UPDATE SET
       digest = EXCLUDED.digest, size = EXCLUDED.size, content_type = EXCLUDED.content_type, updated_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [remote, path, digest, size, contentType],
  );
  return rows[0]?.inserted === true;
}

async function promote(blobs: BlobStore, temp: string, final: string): Promise<void> {
  if ((await blobs.stat(final)) !== undefined) await blobs.delete(temp);
  else await blobs.move(temp, final);
}

class TooLargeError extends Error {}

function sizeLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (max > 0 && seen > max) return cb(new TooLargeError(`upload exceeds ${max} bytes`));
      cb(null, chunk);
    },
  });
}

function uploadError(err: unknown): unknown {
  if (err instanceof IntegrityError || err instanceof DigestMismatchError) {
    return new ApiError('DIGEST_MISMATCH', 'the uploaded bytes do not match X-Checksum-Sha256');
  }
  if (err instanceof TooLargeError) return new ApiError('PAYLOAD_TOO_LARGE', err.message);
  return err;
}
