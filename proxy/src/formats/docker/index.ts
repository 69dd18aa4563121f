import type { RemoteConfig } from '../../config/index.ts';
import type { BuiltinClass, ExpectedDigest, Format } from '../format.ts';
import { registerFormat } from '../registry.ts';
import { joinUrl } from '../url.ts';
import { parseDigest } from './names.ts';

export * from './media-types.ts';
export * from './names.ts';

/**
 * The cache path of a registry object on a docker remote. The registry routes
 * (`proxy/src/registry/`) build these; the engine keys its entries by them:
 * - `{repository}/manifests/{tag|digest}`
 * - `{repository}/blobs/{digest}`
 * - `{repository}/tags/list` (the whole list; pagination is applied when serving)
 *
 * `repository` is canonical: Docker Hub's `library/` prefix is already added.
 */
export type DockerObject =
  | { kind: 'manifest'; repository: string; reference: string }
  | { kind: 'blob'; repository: string; digest: string }
  | { kind: 'tags'; repository: string };

export function dockerCachePath(o: DockerObject): string {
  switch (o.kind) {
    case 'manifest':
      return `${o.repository}/manifests/${o.reference}`;
    case 'blob':
      return `${o.repository}/blobs/${o.digest}`;
    case 'tags':
      return `${o.repository}/tags/list`;
  }
}

/** The inverse of `dockerCachePath`; `undefined` for a path of another shape. */
export function parseDockerCachePath(path: string): DockerObject | undefined {
  let m = /^(.+)\/manifests\/([^/]+)$/.exec(path);
  if (m) return { kind: 'manifest', repository: m[1]!, reference: m[2]! };
  m = /^(.+)\/blobs\/([^/]+)$/.exec(path);
  if (m) return { kind: 'blob', repository: m[1]!, digest: m[2]! };
  m = /^(.+)\/tags\/list$/.exec(path);
  if (m) return { kind: 'tags', repository: m[1]! };
  return undefined;
}

/** The remote's registry root: `baseUrl` with any trailing `/v2` removed, so both spellings work. */
export function registryRoot(remote: RemoteConfig): string {
  if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
  return remote.baseUrl.replace(/\/v2\/?$/, '').replace(/\/$/, '');
}

/**
 * Docker / OCI registries (Docker Hub, ghcr.io, distribution, Harbor, …).
 * Digest-addressed manifests and blobs are immutable and verified against the
 * digest in their path; tag manifests and tag lists are mutable built-ins
 * (the seed's "Tag manifests and /tags/list are built-in mutable patterns").
 * The upstream's `Docker-Content-Digest` is kept and replayed; the media type
 * is kept as the entry's Content-Type.
 */
export const dockerFormat: Format = {
  name: 'docker',
  classify(path: string): BuiltinClass | undefined {
    const o = parseDockerCachePath(path);
    if (!o) return undefined;
    if (o.kind === 'tags') return 'mutable-builtin';
    const ref = o.kind === 'blob' ? o.digest : o.reference;
    return parseDigest(ref) ? 'immutable-builtin' : o.kind === 'manifest' ? 'mutable-builtin' : undefined;
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    return joinUrl(`${registryRoot(remote)}/v2/`, path);
  },
  digestFromPath(path: string): ExpectedDigest | undefined {
    const o = parseDockerCachePath(path);
    if (!o || o.kind === 'tags') return undefined;
    return parseDigest(o.kind === 'blob' ? o.digest : o.reference);
  },
  keepHeaders: ['docker-content-digest'],
  contentType(path: string): string | undefined {
    const o = parseDockerCachePath(path);
    if (o?.kind === 'blob') return 'application/octet-stream';
    if (o?.kind === 'tags') return 'application/json';
    return undefined;
  },
};

registerFormat(dockerFormat);
