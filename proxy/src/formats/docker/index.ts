import { Counter, type Registry } from 'prom-client';
import type { RemoteConfig } from '../../config/index.ts';
import type { BuiltinClass, ExpectedDigest, Format } from '../format.ts';
import { registerFormat } from '../registry.ts';
import { joinUrl } from '../url.ts';
import { upstreamManifestAccept } from './media-types.ts';
import { parseDigest } from './names.ts';
import { RegistryUpstream } from './upstream-auth.ts';

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
  upstreamHeaders(_remote: RemoteConfig, path: string): Record<string, string> {
    return parseDockerCachePath(path)?.kind === 'manifest' ? { accept: upstreamManifestAccept } : {};
  },
  keepHeaders: ['docker-content-digest'],
  conditionalRevalidation(path: string): boolean {
    // Tag manifests: their ETag is their digest, and RegistryUpstream answers the conditional GET with a HEAD.
    return parseDockerCachePath(path)?.kind === 'manifest';
  },
  wrapUpstream(base, env) {
    const metrics = tokenMetrics(env.registry);
    return new RegistryUpstream({
      base,
      remote: (name) => env.config.current().remotes.get(name),
      credentials: (name) => env.config.current().credentials(name),
      clock: env.clock,
      logger: env.logger.child({ component: 'registry-upstream' }),
      onToken: (remote, result) => metrics.inc({ remote, result }),
    });
  },
  contentType(path: string): string | undefined {
    const o = parseDockerCachePath(path);
    if (o?.kind === 'blob') return 'application/octet-stream';
    if (o?.kind === 'tags') return 'application/json';
    return undefined;
  },
};

/** `orchard_registry_token_fetches_total`, shared by every engine built on the same metrics registry. */
function tokenMetrics(registry: Registry): Counter<'remote' | 'result'> {
  const name = 'orchard_registry_token_fetches_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'remote' | 'result'>;
  return new Counter({
    name,
    help: "Bearer token requests to upstream registries' token endpoints, by remote and result (ok, error, denied).",
    labelNames: ['remote', 'result'],
    registers: [registry],
  });
}

registerFormat(dockerFormat);
