import type { OrchardConfig, RemoteConfig } from '../config/index.ts';
import { canonicalRegistryHost, canonicalRepository, isRepositoryName } from '../formats/docker/index.ts';
import { OciError } from './errors.ts';

/** What a `/v2/…` request addresses, parsed from the right (names have any number of segments). */
export type V2Operation =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'upload-start'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string };

/** The route templates, for metrics labels (never the path itself). */
export const routeTemplates: Record<V2Operation['kind'], string> = {
  base: '/v2/',
  catalog: '/v2/_catalog',
  manifest: '/v2/:name/manifests/:reference',
  blob: '/v2/:name/blobs/:digest',
  'upload-start': '/v2/:name/blobs/uploads/',
  upload: '/v2/:name/blobs/uploads/:id',
  tags: '/v2/:name/tags/list',
  referrers: '/v2/:name/referrers/:digest',
};

/**
 * Parse the raw path after `/v2/` (still percent-encoded). Segments are
 * decoded one by one; anything that is not a valid repository name is
 * rejected later by `resolveTarget`. Returns `undefined` for shapes the API
 * does not have (404).
 */
export function parseV2Path(raw: string): V2Operation | undefined {
  if (raw === '') return { kind: 'base' };
  if (raw === '_catalog') return { kind: 'catalog' };
  let segments: string[];
  try {
    segments = raw.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  const n = segments.length;
  const at = (i: number) => segments[n - i];
  const name = (drop: number) => segments.slice(0, n - drop).join('/');
  if (n >= 3 && at(3) === 'blobs' && at(2) === 'uploads' && at(1) === '')
    return { kind: 'upload-start', name: name(3) };
  if (n >= 3 && at(2) === 'blobs' && at(1) === 'uploads') return { kind: 'upload-start', name: name(2) };
  if (n >= 4 && at(3) === 'blobs' && at(2) === 'uploads')
    return { kind: 'upload', name: name(3), id: at(1)! };
  if (n >= 3 && at(2) === 'manifests') return { kind: 'manifest', name: name(2), reference: at(1)! };
  if (n >= 3 && at(2) === 'blobs') return { kind: 'blob', name: name(2), digest: at(1)! };
  if (n >= 3 && at(2) === 'tags' && at(1) === 'list') return { kind: 'tags', name: name(2) };
  if (n >= 3 && at(2) === 'referrers') return { kind: 'referrers', name: name(2), digest: at(1)! };
  return undefined;
}

/** The remote and repository a request's name resolves to. */
export interface RegistryTarget {
  remote: RemoteConfig;
  /** The repository inside the remote, canonical (Docker Hub's `library/` added). */
  repository: string;
  /** The name as the client wrote it: Location headers and tag lists use it. */
  clientName: string;
  /** `remote`: `/v2/{remote}/{name}`; `mirror`: containerd's `/v2/{name}?ns={host}`. */
  mode: 'remote' | 'mirror';
}

const hostPattern = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/**
 * Decide which docker remote serves `name`:
 * 1. The first segment names a configured docker remote (and more segments
 *    follow): remote mode, the rest is the repository. This wins even when
 *    `ns` is present, which is what RKE2/k3s `rewrite` rules produce
 *    (`/v2/dockerhub/library/nginx/…?ns=docker.io`).
 * 2. Otherwise mirror mode: the remote whose `mirrorOf` lists `ns` (Docker
 *    Hub aliases count as `docker.io`), or, without `ns`, the one mirroring
 *    `docker.io` (the default registry of containerd and Docker). `ns` is only
 *    a key into that closed list and is never dialed.
 * Throws NAME_INVALID for a malformed name and NAME_UNKNOWN when no remote fits.
 */
export function resolveTarget(cfg: OrchardConfig, name: string, ns: string | undefined): RegistryTarget {
  if (!isRepositoryName(name))
    throw new OciError('NAME_INVALID', 'invalid repository name', { detail: { name: name.slice(0, 256) } });
  const slash = name.indexOf('/');
  if (slash > 0) {
    const remote = cfg.remotes.get(name.slice(0, slash));
    if (remote?.package === 'docker') {
      const rest = name.slice(slash + 1);
      return { remote, repository: canonicalRepository(remote, rest), clientName: name, mode: 'remote' };
    }
  }
  const host = ns === undefined ? 'docker.io' : ns.toLowerCase();
  if (!hostPattern.test(host) || host.length > 253)
    throw new OciError('NAME_UNKNOWN', 'invalid ns parameter');
  const remote = mirrorFor(cfg, canonicalRegistryHost(host));
  if (!remote) {
    throw new OciError('NAME_UNKNOWN', `no docker remote serves ${name.slice(0, 256)}`, {
      detail: { name: name.slice(0, 256), ns: ns === undefined ? undefined : host },
    });
  }
  return { remote, repository: canonicalRepository(remote, name), clientName: name, mode: 'mirror' };
}

function mirrorFor(cfg: OrchardConfig, host: string): RemoteConfig | undefined {
  for (const [mirrored, remoteName] of cfg.mirrors) {
    if (canonicalRegistryHost(mirrored) !== host) continue;
    const remote = cfg.remotes.get(remoteName);
    if (remote?.package === 'docker' && remote.type === 'remote') return remote;
  }
  return undefined;
}
