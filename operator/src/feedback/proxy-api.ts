/**
 * ProxyApi: what the operator asks of the Orchard proxy. These endpoints are
 * the contract the proxy serves (docs/operator.md, "Proxy API contract"):
 *
 * - `GET /api/v1/project/{p}/packages/{pkg}` ->
 *   `{ tag_count, artifact_count, total_size, latest_tag, latest_upload_at? }`
 * - `GET /api/v1/remotes/{name}/stats` ->
 *   `{ cached_objects, cached_bytes, last_upstream_error, last_upstream_error_at?, upstream_healthy }`
 * - `DELETE /api/v1/project/{p}/packages/{pkg}`: delete the package and its
 *   artifacts (2xx, or 404 when already gone)
 * - `DELETE /api/v1/projects/{p}`: delete the project, its packages and
 *   their artifacts (2xx, or 404 when already gone)
 *
 * Every method is safe to call concurrently and bounded by `timeoutMs`.
 * The stats methods answer `{ ok: false, reason }` instead of throwing when
 * the proxy is unreachable or does not serve the endpoint; the delete methods
 * throw `ProxyError` so a reconcile can retry.
 */
export interface PackageStats {
  tagCount: number;
  artifactCount: number;
  totalSize: number;
  latestTag?: string;
  /** RFC 3339. */
  latestUploadAt?: string;
}

export interface RemoteStats {
  cachedObjects: number;
  cachedBytes: number;
  lastUpstreamError?: string;
  /** RFC 3339. */
  lastUpstreamErrorTime?: string;
  upstreamHealthy?: boolean;
}

export type StatsResult<T> =
  | { ok: true; stats: T }
  | {
      ok: false;
      reason: 'ProxyUnreachable' | 'StatsNotServed' | 'NotFoundInProxy' | 'BadResponse';
      message: string;
    };

export interface ProxyApi {
  packageStats(project: string, pkg: string): Promise<StatsResult<PackageStats>>;
  remoteStats(remote: string): Promise<StatsResult<RemoteStats>>;
  deletePackage(project: string, pkg: string): Promise<void>;
  deleteProject(project: string): Promise<void>;
}

export class ProxyError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'ProxyError';
    this.status = status;
  }
}

export function createProxyApi(opts: { baseUrl: string; timeoutMs?: number }): ProxyApi {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 5000;
  const seg = encodeURIComponent;
  const call = (method: string, path: string) =>
    fetch(`${base}${path}`, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    });

  async function stats<T>(
    path: string,
    map: (j: Record<string, unknown>) => T | undefined,
  ): Promise<StatsResult<T>> {
    let res: Response;
    try {
      res = await call('GET', path);
    } catch (err) {
      return { ok: false, reason: 'ProxyUnreachable', message: `GET ${path}: ${(err as Error).message}` };
    }
    if (res.status === 404) {
      // A JSON error body means the route exists but the object does not (yet).
      const body = await res.text();
      const routeExists = /"(code|error|detail)"/.test(body);
      return routeExists
        ? { ok: false, reason: 'NotFoundInProxy', message: `GET ${path}: not found in the proxy` }
        : {
            ok: false,
            reason: 'StatsNotServed',
            message: `GET ${path}: the proxy does not serve this endpoint`,
          };
    }
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, reason: 'BadResponse', message: `GET ${path}: HTTP ${res.status}` };
    }
    try {
      const mapped = map((await res.json()) as Record<string, unknown>);
      if (mapped) return { ok: true, stats: mapped };
    } catch {
      // fall through
    }
    return { ok: false, reason: 'BadResponse', message: `GET ${path}: unexpected response body` };
  }

  async function remove(path: string): Promise<void> {
    let res: Response;
    try {
      res = await call('DELETE', path);
    } catch (err) {
      throw new ProxyError(`DELETE ${path}: ${(err as Error).message}`);
    }
    await res.body?.cancel();
    if (res.ok || res.status === 404) return;
    throw new ProxyError(`DELETE ${path}: HTTP ${res.status}`, res.status);
  }

  return {
    packageStats: (project, pkg) =>
      stats(`/api/v1/project/${seg(project)}/packages/${seg(pkg)}`, (j) => {
        const n = (k: string) => (typeof j[k] === 'number' ? (j[k] as number) : undefined);
        const tagCount = n('tag_count');
        const artifactCount = n('artifact_count');
        const totalSize = n('total_size');
        if (tagCount === undefined || artifactCount === undefined || totalSize === undefined)
          return undefined;
        const latest = j.latest_tag;
        return {
          tagCount,
          artifactCount,
          totalSize,
          ...(typeof latest === 'string' ? { latestTag: latest } : {}),
        };
      }),
    remoteStats: (remote) =>
      stats(`/api/v1/remotes/${seg(remote)}/stats`, (j) => {
        if (typeof j.cached_objects !== 'number' || typeof j.cached_bytes !== 'number') return undefined;
        return {
          cachedObjects: j.cached_objects,
          cachedBytes: j.cached_bytes,
          ...(typeof j.last_upstream_error === 'string' ? { lastUpstreamError: j.last_upstream_error } : {}),
          ...(typeof j.last_upstream_error_at === 'string'
            ? { lastUpstreamErrorTime: j.last_upstream_error_at }
            : {}),
          ...(typeof j.upstream_healthy === 'boolean' ? { upstreamHealthy: j.upstream_healthy } : {}),
        };
      }),
    deletePackage: (project, pkg) => remove(`/api/v1/project/${seg(project)}/packages/${seg(pkg)}`),
    deleteProject: (project) => remove(`/api/v1/projects/${seg(project)}`),
  };
}
