import { mediaTypes, sha256Of } from '../../formats/docker/index.ts';
import type { RegistryRequest } from '../context.ts';
import { notFound, OciError } from '../errors.ts';
import { queryValue } from '../http-util.ts';
import { parseTagQuery, sendTags } from '../tags.ts';

/** `GET /v2/{name}/tags/list` (end-8a/b) of a hosted repository; NAME_UNKNOWN when it holds nothing. */
export async function listTags(r: RegistryRequest): Promise<void> {
  const { deps, target } = r;
  const q = parseTagQuery(r);
  if (!(await deps.store.repositoryExists(target.remote.name, target.repository))) {
    throw notFound('name', { name: target.clientName });
  }
  const limit = q.n === undefined ? undefined : q.n + 1;
  const tags = await deps.store.listTags(target.remote.name, target.repository, { last: q.last, limit });
  const more = q.n !== undefined && tags.length > q.n;
  sendTags(r, { tags: more ? tags.slice(0, q.n) : tags, more }, q);
}

/**
 * `GET /v2/{name}/referrers/{digest}` (end-12a/b): an image index of the
 * manifests whose `subject` is `digest`, filtered by `artifactType` when asked
 * (then `OCI-Filters-Applied: artifactType`). An unknown subject gives an
 * empty index, as the spec requires, not a 404.
 */
export async function listReferrers(r: RegistryRequest, digest: string): Promise<void> {
  const { ctx, deps, target } = r;
  const hex = sha256Of(digest);
  if (!hex)
    throw new OciError('DIGEST_INVALID', 'the subject must be a sha256 digest', {
      detail: { digest: digest.slice(0, 160) },
    });
  const artifactType = queryValue(ctx, 'artifactType');
  const found = await deps.store.referrers(target.remote.name, target.repository, hex, artifactType);
  if (artifactType !== undefined) ctx.set('OCI-Filters-Applied', 'artifactType');
  ctx.status = 200;
  ctx.type = mediaTypes.ociIndex;
  ctx.body = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociIndex,
    manifests: found.map((m) => ({
      mediaType: m.mediaType,
      digest: `sha256:${m.digest}`,
      size: m.size,
      ...(m.artifactType ? { artifactType: m.artifactType } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    })),
  };
}

export { notFound };
