import { createHash, randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import type Router from '@koa/router';
import type Koa from 'koa';
import { ApiError } from '../http/errors.ts';
import { readJson } from '../http/middleware.ts';
import { blobKey, MIN_PART_SIZE } from '../storage/blob-store.ts';
import { actorOf, type HostedDeps, sourceIpOf } from './context.ts';
import { ingest, linkExisting, mapStorageError, TEMP_PREFIX, uploadResponse } from './ingest.ts';
import { optionalText, validateName, validateSha256 } from './names.ts';
import { getArtifact } from './repo/artifacts.ts';
import { type PackageRef, requirePackage } from './repo/packages.ts';
import {
  getSession,
  insertSession,
  listSessionParts,
  recordPart,
  type SessionRow,
  transition,
} from './repo/sessions.ts';

const base = '/api/v1/project/:project/:package/upload';

/**
 * Resumable uploads: `init`, `PUT part/{n}` (any order, retries replace),
 * `complete` (verifies the total sha256 before anything is visible), `DELETE`
 * (abort) and `status`. Session state lives in `upload_sessions` and the blob
 * store's multipart session, so it survives a restart and any replica can
 * serve any call.
 */
export function mountResumable(router: Router, deps: HostedDeps): void {
  router.post(`${base}/init`, (ctx) => init(ctx, deps));
  router.put(`${base}/:upload_id/part/:part_number`, (ctx) => putPart(ctx, deps));
  router.post(`${base}/:upload_id/complete`, (ctx) => complete(ctx, deps));
  router.delete(`${base}/:upload_id`, (ctx) => abort(ctx, deps));
  router.get(`${base}/:upload_id/status`, (ctx) => status(ctx, deps));
}

async function init(ctx: Koa.Context, deps: HostedDeps): Promise<void> {
  const ref = await requirePackage(deps.db, ctx.params.project, ctx.params.package);
  const body = await readJson<Record<string, unknown>>(ctx);
  const expected = validateSha256(body.expected_hash, 'expected_hash');
  const size = body.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new ApiError('VALIDATION_FAILED', 'size must be the total byte count', {
      detail: { field: 'size' },
    });
  }
  const max = deps.limits.maxUploadBytes;
  if (max > 0 && size > max) throw new ApiError('PAYLOAD_TOO_LARGE', `upload exceeds the ${max} byte limit`);
  const tag = body.tag === undefined || body.tag === null ? null : validateName('tag', body.tag);
  const filename = optionalText(body.filename, 'filename', 255);
  const contentType = optionalText(body.content_type, 'content_type', 255);
  const chunkSize = deps.limits.chunkSize;

  const existing = await getArtifact(deps.db, expected);
  if (existing && (await deps.blobs.stat(blobKey(expected)))) {
    const result = await linkExisting(deps, {
      ref,
      artifact: existing,
      filename,
      contentType,
      tag,
      actor: actorOf(ctx),
      sourceIp: sourceIpOf(ctx),
      action: 'upload.init',
    });
    ctx.body = {
      upload_id: null,
      already_exists: true,
      chunk_size: chunkSize,
      ...uploadResponse(ref, result, tag),
    };
    return;
  }

  const id = randomBytes(16).toString('hex');
  const key = `${TEMP_PREFIX}session-${id}`;
  const multipartId = await deps.blobs.createMultipart(key);
  const session = await insertSession(deps.db, {
    id,
    project_id: ref.project.id,
    package_id: ref.pkg.id,
    blob_key: key,
    multipart_upload_id: multipartId,
    expected_hash: expected,
    filename,
    content_type: contentType,
    size,
    tag,
    created_by: actorOf(ctx),
    expires_at: new Date(deps.clock.now() + deps.limits.sessionTtlMs),
  });
  ctx.status = 201;
  ctx.body = {
    upload_id: id,
    already_exists: false,
    chunk_size: chunkSize,
    min_part_size: MIN_PART_SIZE,
    expires_at: session.expires_at,
  };
}

/** The session of this package in `pending` state, or 404 / 409 explaining why not. */
async function pendingSession(
  ctx: Koa.Context,
  deps: HostedDeps,
): Promise<{ ref: PackageRef; session: SessionRow }> {
  const ref = await requirePackage(deps.db, ctx.params.project, ctx.params.package);
  const session = await getSession(deps.db, ctx.params.upload_id, ref.pkg.id);
  if (!session) throw new ApiError('NOT_FOUND', `upload session ${ctx.params.upload_id} not found`);
  if (session.status === 'pending' && new Date(session.expires_at).getTime() < deps.clock.now()) {
    throw new ApiError('NOT_FOUND', `upload session ${session.id} has expired`);
  }
  if (session.status !== 'pending') {
    throw new ApiError('CONFLICT', `upload session ${session.id} is ${session.status}`, {
      detail: { status: session.status },
    });
  }
  return { ref, session };
}

async function putPart(ctx: Koa.Context, deps: HostedDeps): Promise<void> {
  const { session } = await pendingSession(ctx, deps);
  const n = Number(ctx.params.part_number);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    throw new ApiError('VALIDATION_FAILED', 'part_number must be an integer from 1 to 10000');
  }
  // A part is at most the whole upload, and all parts together at most twice it: enough slack
  // for a client to re-split its parts (the old ones are replaced one by one), while bounding
  // what a session can make the store hold.
  const others = (await listSessionParts(deps.db, session.id))
    .filter((p) => p.part_number !== n)
    .reduce((sum, p) => sum + p.size, 0);
  const room = Math.min(session.size, 2 * session.size - others);
  const declared = ctx.get('content-length') ? Number(ctx.get('content-length')) : undefined;
  if (declared !== undefined && declared > room) {
    ctx.set('Connection', 'close');
    throw new ApiError('PAYLOAD_TOO_LARGE', `parts would exceed the declared size (${session.size} bytes)`, {
      detail: { size: session.size, received_in_other_parts: others },
    });
  }
  let seen = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > room) cb(new ApiError('PAYLOAD_TOO_LARGE', 'parts would exceed the declared size'));
      else cb(null, chunk);
    },
  });
  ctx.req.once('error', (err) => limiter.destroy(err));
  let part: Awaited<ReturnType<typeof deps.blobs.putPart>>;
  try {
    part = await deps.blobs.putPart(
      session.blob_key,
      session.multipart_upload_id!,
      n,
      ctx.req.pipe(limiter),
      {
        size: declared,
      },
    );
  } catch (err) {
    const cause = (err as Error).cause;
    throw cause instanceof ApiError ? cause : err instanceof ApiError ? err : mapStorageError(err);
  }
  await recordPart(deps.db, {
    sessionId: session.id,
    partNumber: n,
    size: part.size,
    etag: part.etag,
    expiresAt: new Date(deps.clock.now() + deps.limits.sessionTtlMs),
  });
  ctx.body = { upload_id: session.id, part_number: n, size: part.size, etag: part.etag };
}

async function complete(ctx: Koa.Context, deps: HostedDeps): Promise<void> {
  const { ref, session } = await pendingSession(ctx, deps);
  const body = await readJson<Record<string, unknown>>(ctx);
  const tag = body.tag === undefined || body.tag === null ? session.tag : validateName('tag', body.tag);
  const claimed = await transition(
    deps.db,
    session.id,
    ['pending'],
    'completing',
    new Date(deps.clock.now() + deps.limits.completeTimeoutMs),
  );
  if (!claimed)
    throw new ApiError('CONFLICT', `upload session ${session.id} is already being completed or was aborted`);

  let assembled = false;
  try {
    const parts = await deps.blobs.listParts(session.blob_key, session.multipart_upload_id!);
    checkParts(session, parts);
    await deps.blobs.completeMultipart(
      session.blob_key,
      session.multipart_upload_id!,
      parts.map((p) => p.partNumber),
    );
    assembled = true;
    const sha256 = await hashObject(deps, session.blob_key);
    if (sha256 !== session.expected_hash) {
      throw new ApiError('DIGEST_MISMATCH', 'the assembled upload does not match expected_hash', {
        detail: { expected: session.expected_hash, actual: sha256 },
      });
    }
    const result = await ingest(deps, {
      ref,
      staged: { key: session.blob_key, sha256, size: session.size },
      filename: session.filename,
      contentType: session.content_type,
      tag,
      actor: actorOf(ctx),
      sourceIp: sourceIpOf(ctx),
      action: 'upload.complete',
    });
    await transition(deps.db, session.id, ['completing'], 'completed');
    ctx.body = { upload_id: session.id, ...uploadResponse(ref, result, tag) };
  } catch (err) {
    if (assembled) {
      // The multipart session is consumed: this session cannot be retried.
      await deps.blobs.delete(session.blob_key).catch(() => {});
      await transition(deps.db, session.id, ['completing'], 'aborted');
    } else {
      // Nothing changed in the store: the client may add or replace parts and complete again.
      await transition(deps.db, session.id, ['completing'], 'pending');
    }
    throw mapStorageError(err);
  }
}

/** Parts must add up to the declared size, and all but the last be at least MIN_PART_SIZE (S3's rule). */
function checkParts(session: SessionRow, parts: { partNumber: number; size: number }[]): void {
  const received = parts.reduce((n, p) => n + p.size, 0);
  if (parts.length === 0 || received !== session.size) {
    throw new ApiError('VALIDATION_FAILED', `received ${received} of ${session.size} bytes`, {
      detail: { expected_size: session.size, received_size: received, parts: parts.map((p) => p.partNumber) },
    });
  }
  const small = parts.slice(0, -1).find((p) => p.size < MIN_PART_SIZE);
  if (small) {
    throw new ApiError(
      'VALIDATION_FAILED',
      `part ${small.partNumber} is ${small.size} bytes; every part but the last must be at least ${MIN_PART_SIZE} bytes`,
      { detail: { part_number: small.partNumber, size: small.size, min_part_size: MIN_PART_SIZE } },
    );
  }
}

/** Stream an object back through sha256 (parts arrive out of order, so no running hash is possible). */
async function hashObject(deps: HostedDeps, key: string): Promise<string> {
  const hash = createHash('sha256');
  const { body } = await deps.blobs.get(key);
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function abort(ctx: Koa.Context, deps: HostedDeps): Promise<void> {
  const { session } = await pendingSession(ctx, deps);
  const aborted = await transition(deps.db, session.id, ['pending'], 'aborted');
  if (!aborted) throw new ApiError('CONFLICT', `upload session ${session.id} changed state concurrently`);
  await deps.blobs.abortMultipart(session.blob_key, session.multipart_upload_id!);
  ctx.body = { upload_id: session.id, status: 'aborted' };
}

async function status(ctx: Koa.Context, deps: HostedDeps): Promise<void> {
  const ref = await requirePackage(deps.db, ctx.params.project, ctx.params.package);
  const session = await getSession(deps.db, ctx.params.upload_id, ref.pkg.id);
  if (!session) throw new ApiError('NOT_FOUND', `upload session ${ctx.params.upload_id} not found`);
  const parts = await listSessionParts(deps.db, session.id);
  ctx.body = {
    upload_id: session.id,
    status: session.status,
    expected_hash: session.expected_hash,
    filename: session.filename,
    size: session.size,
    tag: session.tag,
    chunk_size: deps.limits.chunkSize,
    uploaded_parts: parts.map((p) => p.part_number),
    parts: parts.map((p) => ({
      part_number: p.part_number,
      size: p.size,
      etag: p.etag,
      received_at: p.received_at,
    })),
    total_uploaded_bytes: parts.reduce((n, p) => n + p.size, 0),
    created_at: session.created_at,
    expires_at: session.expires_at,
  };
}
