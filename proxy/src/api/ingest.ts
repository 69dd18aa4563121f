import { randomUUID } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { blobSource, extractMetadata } from '../metadata/index.ts';
import { type BlobStore, blobKey } from '../storage/blob-store.ts';
import { DigestMismatchError, InvalidArgumentError } from '../storage/errors.ts';
import type { HostedDeps } from './context.ts';
import { audit, getArtifact, insertArtifact, recordUpload } from './repo/artifacts.ts';
import type { PackageRef } from './repo/packages.ts';
import { touchPackage } from './repo/packages.ts';
import type { ArtifactRow } from './repo/rows.ts';
import { setTag } from './repo/tags.ts';

/** Blobs not yet published: uploads and completed multipart sessions land here first. */
export const TEMP_PREFIX = 'tmp/uploads/';

export interface StagedBlob {
  key: string;
  sha256: string;
  size: number;
}

/** Thrown by the limiter inside the stream, mapped to 413 by `stageBlob`. */
class TooLargeError extends Error {}

/**
 * Stream `body` into a temporary key while the store hashes it. Nothing is
 * visible under the content address yet. Over `maxBytes` → 413; a
 * client-supplied `expectedSha256` that does not match → 422; in both cases
 * nothing is stored.
 */
export async function stageBlob(
  blobs: BlobStore,
  body: Readable,
  opts: { maxBytes: number; expectedSha256?: string },
): Promise<StagedBlob> {
  const key = `${TEMP_PREFIX}${randomUUID()}`;
  let input = body;
  if (opts.maxBytes > 0) {
    let seen = 0;
    const limiter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (seen > opts.maxBytes) cb(new TooLargeError());
        else cb(null, chunk);
      },
    });
    body.once('error', (err) => limiter.destroy(err));
    input = body.pipe(limiter);
  }
  try {
    const put = await blobs.put(key, input, { expectedSha256: opts.expectedSha256 });
    return { key, sha256: put.sha256, size: put.size };
  } catch (err) {
    await blobs.delete(key).catch(() => {});
    throw mapStorageError(err, opts.maxBytes);
  }
}

export function mapStorageError(err: unknown, maxBytes?: number): unknown {
  const cause = (err as Error)?.cause;
  if (err instanceof TooLargeError || cause instanceof TooLargeError) {
    return new ApiError('PAYLOAD_TOO_LARGE', `upload exceeds the ${maxBytes} byte limit`);
  }
  if (err instanceof DigestMismatchError) {
    return new ApiError('DIGEST_MISMATCH', undefined, {
      detail: { expected: err.expected, actual: err.actual },
    });
  }
  if (err instanceof InvalidArgumentError) return new ApiError('BAD_REQUEST', err.reason);
  return err;
}

/** Best effort: a leftover temp object is swept later anyway. */
export async function discardStaged(blobs: BlobStore, staged: StagedBlob): Promise<void> {
  await blobs.delete(staged.key).catch(() => {});
}

export interface IngestRequest {
  ref: PackageRef;
  staged: StagedBlob;
  filename: string | null;
  contentType: string | null;
  tag: string | null;
  actor: string;
  sourceIp: string | null;
  /** Audit action, e.g. `artifact.upload` or `upload.complete`. */
  action: string;
}

export interface IngestResult {
  artifact: ArtifactRow;
  deduplicated: boolean;
}

/**
 * Publish a staged blob and record it: extract metadata (new artifacts only),
 * move the blob to its content address unless it is already there (dedup),
 * then in one transaction insert the artifact, the upload event, the tag and
 * an audit entry. The blob is published before the rows, so a row never
 * points at missing bytes; a crash in between leaves an unreferenced blob for GC.
 */
export async function ingest(deps: HostedDeps, req: IngestRequest): Promise<IngestResult> {
  const { blobs, db } = deps;
  const { staged } = req;
  const known = await getArtifact(db, staged.sha256);
  const formatMetadata =
    known?.format_metadata ??
    (await extractMetadata(blobSource(blobs, staged.key, staged.size, req.filename ?? ''), {
      registry: deps.extractors,
      declaredFormat: req.ref.pkg.format,
    }));
  await publish(blobs, staged);
  return db.transaction((tx) => record(tx, req, formatMetadata));
}

/**
 * Link an artifact that already exists (resumable `init` with a known hash)
 * to a package: an upload event marked deduplicated, the tag, an audit entry.
 */
export async function linkExisting(
  deps: HostedDeps,
  req: Omit<IngestRequest, 'staged'> & { artifact: ArtifactRow },
): Promise<IngestResult> {
  const staged = { key: '', sha256: req.artifact.id, size: req.artifact.size };
  return deps.db.transaction((tx) => record(tx, { ...req, staged }, req.artifact.format_metadata));
}

/** Move the staged blob to its content address, or drop it when identical bytes are already there. */
export async function publish(blobs: BlobStore, staged: StagedBlob): Promise<void> {
  const final = blobKey(staged.sha256);
  const existing = await blobs.stat(final);
  if (existing && existing.size === staged.size) await blobs.delete(staged.key);
  else await blobs.move(staged.key, final);
}

async function record(
  tx: Queryable,
  req: IngestRequest,
  formatMetadata: Record<string, unknown>,
): Promise<IngestResult> {
  const { ref, staged } = req;
  const { artifact, created } = await insertArtifact(tx, {
    id: staged.sha256,
    size: staged.size,
    contentType: req.contentType,
    originalName: req.filename,
    formatMetadata,
    createdBy: req.actor,
  });
  await recordUpload(tx, {
    artifactId: artifact.id,
    packageId: ref.pkg.id,
    originalName: req.filename,
    size: staged.size,
    tag: req.tag,
    uploadedBy: req.actor,
    deduplicated: !created,
    sourceIp: req.sourceIp,
  });
  if (req.tag)
    await setTag(tx, { packageId: ref.pkg.id, name: req.tag, artifactId: artifact.id, actor: req.actor });
  await touchPackage(tx, ref.pkg.id);
  await audit(tx, {
    action: req.action,
    resource: `project/${ref.project.name}/${ref.pkg.name}`,
    subject: req.actor,
    sourceIp: req.sourceIp,
    details: {
      artifact_id: artifact.id,
      size: staged.size,
      tag: req.tag,
      deduplicated: !created,
      filename: req.filename,
    },
  });
  // jsonb reorders keys; answer a fresh upload with the metadata as extracted (the seed's field order).
  return {
    artifact: created ? { ...artifact, format_metadata: formatMetadata } : artifact,
    deduplicated: !created,
  };
}

/** The upload response body of the seed (`artifact_id` … `deduplicated`), plus the stored name and type. */
export function uploadResponse(ref: PackageRef, result: IngestResult, tag: string | null) {
  return {
    artifact_id: result.artifact.id,
    size: result.artifact.size,
    project: ref.project.name,
    package: ref.pkg.name,
    tag,
    format_metadata: result.artifact.format_metadata,
    deduplicated: result.deduplicated,
    original_name: result.artifact.original_name,
    content_type: result.artifact.content_type,
  };
}
