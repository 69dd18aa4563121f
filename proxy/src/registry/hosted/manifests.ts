import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { isTag, parseDigest, sha256Of } from '../../formats/docker/index.ts';
import { blobKey } from '../../storage/blob-store.ts';
import { type RegistryRequest, v2Path } from '../context.ts';
import { notFound, OciError } from '../errors.ts';
import { readBody } from '../http-util.ts';
import { serveStored } from '../serve.ts';
import { parseManifest } from './manifest.ts';

/**
 * `PUT /v2/{name}/manifests/{reference}` (end-7): validate, check that every
 * referenced blob and manifest is in the repository (MANIFEST_BLOB_UNKNOWN,
 * one error detail per missing digest), store the bytes content-addressed,
 * record it and move the tag. Answers 201 with Location,
 * Docker-Content-Digest and, for a manifest with a subject, OCI-Subject.
 */
export async function putManifest(r: RegistryRequest, reference: string): Promise<void> {
  const { ctx, deps, target } = r;
  const byDigest = parseDigest(reference);
  if (!byDigest && !isTag(reference))
    throw new OciError('MANIFEST_INVALID', 'the reference is neither a tag nor a digest');
  const body = await readBody(ctx, deps.maxManifestBytes, 'the manifest');
  const hex = createHash('sha256').update(body).digest('hex');
  if (byDigest) {
    const actual = createHash(byDigest.algorithm).update(body).digest('hex');
    if (actual !== byDigest.hex) {
      throw new OciError('DIGEST_INVALID', 'the manifest does not match the digest in the URL', {
        detail: { expected: reference, actual: `${byDigest.algorithm}:${actual}` },
      });
    }
  }
  const parsed = parseManifest(body, ctx.get('content-type') || undefined);
  await requireReferences(r, parsed.refs);
  if ((await deps.blobs.stat(blobKey(hex))) === undefined) {
    await deps.blobs.put(blobKey(hex), Readable.from([body]), {
      expectedSha256: hex,
      size: body.length,
      contentType: parsed.mediaType,
    });
  }
  await deps.store.putManifest(
    target.remote.name,
    target.repository,
    {
      digest: hex,
      mediaType: parsed.mediaType,
      size: body.length,
      artifactType: parsed.artifactType,
      subject: parsed.subject,
      annotations: parsed.annotations,
    },
    parsed.refs.map(({ kind, digest }) => ({ kind, digest })),
    byDigest ? undefined : reference,
  );
  ctx.status = 201;
  ctx.set('Location', v2Path(target, `manifests/sha256:${hex}`));
  ctx.set('Docker-Content-Digest', `sha256:${hex}`);
  if (parsed.subject) ctx.set('OCI-Subject', `sha256:${parsed.subject}`);
  ctx.set('Content-Length', '0');
}

async function requireReferences(
  r: RegistryRequest,
  refs: { kind: 'blob' | 'manifest'; digest: string; size?: number }[],
) {
  const { deps, target } = r;
  const found = await deps.store.findReferences(target.remote.name, target.repository, [
    ...new Set(refs.map((x) => x.digest)),
  ]);
  const missing = refs.filter((ref) =>
    ref.kind === 'blob' ? !found.blobs.has(ref.digest) : !found.manifests.has(ref.digest),
  );
  if (missing.length > 0) {
    throw new OciError('MANIFEST_BLOB_UNKNOWN', undefined, {
      detail: { digests: [...new Set(missing.map((m) => `sha256:${m.digest}`))] },
    });
  }
  const wrongSize = refs.find(
    (ref) => ref.kind === 'blob' && ref.size !== undefined && found.blobs.get(ref.digest) !== ref.size,
  );
  if (wrongSize) {
    throw new OciError('MANIFEST_INVALID', 'a descriptor size does not match the blob', {
      detail: { digest: `sha256:${wrongSize.digest}`, size: found.blobs.get(wrongSize.digest) },
    });
  }
}

/** `GET`/`HEAD /v2/{name}/manifests/{reference}` (end-3) from a hosted repository. */
export async function getManifest(r: RegistryRequest, reference: string): Promise<void> {
  const { ctx, deps, target } = r;
  const hex = await resolveReference(r, reference);
  const m = hex ? await deps.store.getManifest(target.remote.name, target.repository, hex) : undefined;
  if (!m) throw notFound('manifest', { reference: reference.slice(0, 160) });
  await serveStored(
    ctx,
    deps.blobs,
    { sha256: m.digest, size: m.size, contentType: m.mediaType, ranges: false },
    () => notFound('manifest'),
  );
}

/** `DELETE /v2/{name}/manifests/{reference}` (end-9): by digest the manifest and its tags, by tag the tag only. */
export async function deleteManifest(r: RegistryRequest, reference: string): Promise<void> {
  const { ctx, deps, target } = r;
  const hex = sha256Of(reference);
  const deleted = hex
    ? await deps.store.deleteManifest(target.remote.name, target.repository, hex)
    : isTag(reference) && (await deps.store.deleteTag(target.remote.name, target.repository, reference));
  if (!deleted) throw notFound('manifest', { reference: reference.slice(0, 160) });
  ctx.status = 202;
  ctx.set('Content-Length', '0');
}

/** `GET`/`HEAD /v2/{name}/blobs/{digest}` (end-2) from a hosted repository. */
export async function getBlob(r: RegistryRequest, digest: string): Promise<void> {
  const { ctx, deps, target } = r;
  const hex = sha256Of(digest);
  const size = hex ? await deps.store.blobSize(target.remote.name, target.repository, hex) : undefined;
  if (!hex || size === undefined) throw notFound('blob', { digest: digest.slice(0, 160) });
  await serveStored(
    ctx,
    deps.blobs,
    { sha256: hex, size, contentType: 'application/octet-stream', ranges: true },
    () => notFound('blob'),
  );
}

/** `DELETE /v2/{name}/blobs/{digest}` (end-10): the repository forgets the blob; the bytes stay for other holders. */
export async function deleteBlob(r: RegistryRequest, digest: string): Promise<void> {
  const { ctx, deps, target } = r;
  const hex = sha256Of(digest);
  if (!hex || !(await deps.store.unlinkBlob(target.remote.name, target.repository, hex))) {
    throw notFound('blob', { digest: digest.slice(0, 160) });
  }
  ctx.status = 202;
  ctx.set('Content-Length', '0');
}

async function resolveReference(r: RegistryRequest, reference: string): Promise<string | undefined> {
  const { deps, target } = r;
  if (parseDigest(reference)) return sha256Of(reference);
  if (!isTag(reference))
    throw new OciError('MANIFEST_INVALID', 'the reference is neither a tag nor a digest');
  return deps.store.resolveTag(target.remote.name, target.repository, reference);
}
