import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256Of } from '../../formats/docker/index.ts';
import { blobKey } from '../../storage/blob-store.ts';
import { DigestMismatchError, InvalidArgumentError } from '../../storage/errors.ts';
import { EMPTY_SHA256, HashingStream } from '../../storage/hashing.ts';
import { type RegistryRequest, v2Path } from '../context.ts';
import { notFound, OciError } from '../errors.ts';
import {
  contentLength,
  hasBody,
  parseContentRange,
  queryValue,
  queryValues,
  requestBody,
  uploadRangeHeader,
} from '../http-util.ts';
import { concatChunks, deleteChunks } from './chunks.ts';
import { sweepStaleUploads } from './sweep.ts';
import { chunkKey, type UploadSession } from './upload-store.ts';

/**
 * Blob uploads to a hosted repository (distribution spec, "Push"):
 * - `POST …/blobs/uploads/` starts a session (end-4a), `?digest=` uploads
 *   monolithically in one request (end-4b), `?mount=&from=` links a blob the
 *   source repository holds (end-11);
 * - `PATCH …/uploads/{id}` appends a chunk (end-5), in order, else 416;
 * - `PUT …/uploads/{id}?digest=` appends an optional last chunk and closes (end-6);
 * - `GET …/uploads/{id}` reports progress (end-13), `DELETE` cancels.
 * Finished blobs go to the shared content-addressed store; a blob whose bytes
 * are already there (cached, or pushed elsewhere) is verified, not stored again.
 */
export async function startUpload(r: RegistryRequest): Promise<void> {
  const { ctx, deps, target } = r;
  const mount = queryValue(ctx, 'mount');
  if (mount !== undefined && (await tryMount(r, mount, queryValue(ctx, 'from')))) return;
  const digest = queryValue(ctx, 'digest');
  if (digest !== undefined) {
    const hex = requireSha256(digest);
    const size = await storeWhole(r, hex);
    return created(r, hex, size);
  }
  if (hasBody(ctx)) ctx.req.resume();
  void sweepStaleUploads(deps).catch((err) =>
    deps.logger.warn('upload sweep failed', { error: (err as Error).message }),
  );
  const id = await deps.uploads.create(target.remote.name, target.repository);
  uploadStatus(r, id, 0, 202);
}

export async function patchUpload(r: RegistryRequest, id: string): Promise<void> {
  const session = await requireSession(r, id);
  const size = await appendChunk(r, session);
  uploadStatus(r, id, size, 202);
}

export async function getUploadStatus(r: RegistryRequest, id: string): Promise<void> {
  const session = await requireSession(r, id);
  uploadStatus(r, id, session.size, 204);
}

export async function cancelUpload(r: RegistryRequest, id: string): Promise<void> {
  const session = await requireSession(r, id);
  if (await r.deps.uploads.delete(id)) await deleteChunks(r.deps.blobs, id, session.chunks);
  r.ctx.status = 204;
}

/** Close the session: append the PUT's body (if any), verify the whole blob against `digest`, store it. */
export async function finishUpload(r: RegistryRequest, id: string): Promise<void> {
  const { ctx, deps, target } = r;
  const digests = queryValues(ctx, 'digest');
  if (digests.length === 0) throw new OciError('DIGEST_INVALID', 'the digest query parameter is required');
  const hex = requireSha256(digests[0]!);
  let session = await requireSession(r, id);
  if (hasBody(ctx)) {
    if (session.chunks.length === 0 && ctx.get('content-range') === '') {
      // A monolithic PUT (end-6): no temporary copy needed.
      const size = await storeWhole(r, hex);
      await deps.uploads.delete(id);
      return created(r, hex, size);
    }
    await appendChunk(r, session);
    session = (await requireSession(r, id)) as UploadSession;
  }
  if (!(await deps.uploads.delete(id))) throw notFound('upload', { id });
  try {
    await commitChunks(r, session, hex);
  } finally {
    await deleteChunks(deps.blobs, session.id, session.chunks);
  }
  await deps.store.linkBlob(target.remote.name, target.repository, hex, session.size);
  created(r, hex, session.size);
}

async function requireSession(r: RegistryRequest, id: string): Promise<UploadSession> {
  const session = await r.deps.uploads.get(r.target.remote.name, r.target.repository, id);
  if (!session) {
    if (hasBody(r.ctx)) r.ctx.req.resume();
    throw notFound('upload', { id: id.slice(0, 64) });
  }
  return session;
}

/** Stream the request body into a new chunk at the session's end. Returns the new size. */
async function appendChunk(r: RegistryRequest, session: UploadSession): Promise<number> {
  const { ctx, deps, target } = r;
  const rangeHeaders = statusHeaders(r, session.id, session.size);
  const range = parseContentRange(ctx.get('content-range'), rangeHeaders);
  const length = contentLength(ctx);
  if (
    range &&
    (range.start !== session.size || (length !== undefined && length !== range.end - range.start + 1))
  ) {
    ctx.req.resume();
    throw new OciError('RANGE_INVALID', `the chunk must start at byte ${session.size}`, {
      headers: rangeHeaders,
    });
  }
  if (!hasBody(ctx)) return session.size;
  const key = chunkKey(session.id, session.chunks.length);
  const max = deps.settings.maxUploadBytes > 0 ? Math.max(0, deps.settings.maxUploadBytes - session.size) : 0;
  let put: { size: number; sha256: string };
  try {
    put = await deps.blobs.put(key, requestBody(ctx, max, 'the blob'), { size: length });
  } catch (err) {
    throw uploadFailure(err);
  }
  deps.metrics.uploadedBytes.inc({ remote: target.remote.name }, put.size);
  if (!(await deps.uploads.append(session.id, session.size, { key, size: put.size, sha256: put.sha256 }))) {
    await deps.blobs.delete(key).catch(() => {});
    const current = await requireSession(r, session.id);
    throw new OciError('RANGE_INVALID', 'a concurrent chunk was accepted first', {
      headers: statusHeaders(r, session.id, current.size),
    });
  }
  return session.size + put.size;
}

/**
 * Publish the concatenated chunks under `blobKey(hex)` after checking they hash
 * to `hex`. One chunk: its digest is already known, so it is moved (or, when
 * the blob exists, dropped). Several: streamed back through the store's own
 * verification. A mismatch leaves nothing visible.
 */
async function commitChunks(r: RegistryRequest, session: UploadSession, hex: string): Promise<void> {
  const { blobs } = r.deps;
  const final = blobKey(hex);
  const exists = (await blobs.stat(final)) !== undefined;
  if (session.chunks.length <= 1) {
    const actual = session.chunks[0]?.sha256 ?? EMPTY_SHA256;
    if (actual !== hex) throw digestInvalid(hex, actual);
    if (exists) return;
    const only = session.chunks[0];
    if (only) await blobs.move(only.key, final);
    else await blobs.put(final, concatChunks(blobs, []), { expectedSha256: hex, size: 0 });
    return;
  }
  if (!exists) {
    try {
      await blobs.put(final, concatChunks(blobs, session.chunks), {
        expectedSha256: hex,
        size: session.size,
      });
    } catch (err) {
      if (err instanceof DigestMismatchError) throw digestInvalid(hex, err.actual);
      throw err;
    }
    return;
  }
  const hasher = new HashingStream();
  await pipeline(concatChunks(blobs, session.chunks), hasher, discard());
  if (hasher.sha256 !== hex) throw digestInvalid(hex, hasher.sha256);
}

/**
 * A whole blob in the request body (end-4b, end-6). When the store already
 * has these bytes, they are only hashed; otherwise they stream into place
 * under the store's own digest check.
 */
async function storeWhole(r: RegistryRequest, hex: string): Promise<number> {
  const { ctx, deps, target } = r;
  const body = requestBody(ctx, deps.settings.maxUploadBytes, 'the blob');
  let size: number;
  try {
    if ((await deps.blobs.stat(blobKey(hex))) !== undefined) {
      const hasher = new HashingStream({ expectedSha256: hex });
      await pipeline(body, hasher, discard());
      size = hasher.size;
    } else {
      ({ size } = await deps.blobs.put(blobKey(hex), body, {
        expectedSha256: hex,
        size: contentLength(ctx),
      }));
    }
  } catch (err) {
    throw uploadFailure(err);
  }
  deps.metrics.uploadedBytes.inc({ remote: target.remote.name }, size);
  await deps.store.linkBlob(target.remote.name, target.repository, hex, size);
  return size;
}

/** Cross-repository mount: link a blob the source repository (same remote) holds. False → fall back to an upload. */
async function tryMount(r: RegistryRequest, mount: string, from: string | undefined): Promise<boolean> {
  const { deps, target } = r;
  const hex = sha256Of(mount);
  if (!hex || !from) return false;
  const prefix = target.mode === 'remote' ? `${target.remote.name}/` : '';
  if (!from.startsWith(prefix)) return false;
  const size = await deps.store.blobSize(target.remote.name, from.slice(prefix.length), hex);
  if (size === undefined || (await deps.blobs.stat(blobKey(hex))) === undefined) return false;
  await deps.store.linkBlob(target.remote.name, target.repository, hex, size);
  created(r, hex, size);
  return true;
}

function created(r: RegistryRequest, hex: string, _size: number): void {
  const { ctx, target } = r;
  ctx.status = 201;
  ctx.set('Location', v2Path(target, `blobs/sha256:${hex}`));
  ctx.set('Docker-Content-Digest', `sha256:${hex}`);
  ctx.set('Content-Length', '0');
}

function statusHeaders(r: RegistryRequest, id: string, size: number): Record<string, string> {
  return {
    Location: v2Path(r.target, `blobs/uploads/${id}`),
    Range: uploadRangeHeader(size),
    'Docker-Upload-UUID': id,
    'Blob-Upload-Session-ID': id,
  };
}

function uploadStatus(r: RegistryRequest, id: string, size: number, status: number): void {
  for (const [k, v] of Object.entries(statusHeaders(r, id, size))) r.ctx.set(k, v);
  r.ctx.set('Content-Length', '0');
  r.ctx.status = status;
}

function requireSha256(digest: string): string {
  const hex = sha256Of(digest);
  if (!hex) {
    throw new OciError(
      /^sha512:/.test(digest) ? 'UNSUPPORTED' : 'DIGEST_INVALID',
      'only sha256 digests can be pushed',
      {
        status: 400,
        detail: { digest: digest.slice(0, 160) },
      },
    );
  }
  return hex;
}

function digestInvalid(expected: string, actual: string): OciError {
  return new OciError('DIGEST_INVALID', undefined, {
    detail: { expected: `sha256:${expected}`, actual: `sha256:${actual}` },
  });
}

function uploadFailure(err: unknown): unknown {
  // The blob store wraps a body stream's own error (413 from the size limit) in a StorageError.
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof OciError) return e;
  if (err instanceof DigestMismatchError) return digestInvalid(err.expected, err.actual);
  if (err instanceof InvalidArgumentError)
    return new OciError('SIZE_INVALID', 'the body length does not match Content-Length');
  return err;
}

function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
