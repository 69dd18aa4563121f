import type Router from '@koa/router';
import type Koa from 'koa';
import type { RemoteConfig } from '../config/index.ts';
import type { Format } from '../formats/index.ts';
import type { ProxyDeps, RouteModule } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { publicOrigin } from '../http/origin.ts';
import { classifyPath } from './classify.ts';
import { flushCache } from './flush.ts';
import { cacheEngineFor } from './index.ts';
import { deleteLocal, getLocal, type LocalDeps, putLocal } from './local.ts';
import { normalizePath, rawPathAfter } from './path-guard.ts';
import { serveFromCache } from './serve.ts';

const prefix = '/api/v1/remote/';

/**
 * The seed's remote endpoints on the caching engine:
 * - `GET|HEAD /api/v1/remote/{remote}/{path}`: pull-through (type remote) or a hosted file (type local);
 * - `PUT|DELETE /api/v1/remote/{remote}/{path}`: upload to / delete from a local remote;
 * - `PUT /cache/flush?remote=&pattern=&mutable_only=&all=`;
 * - `GET /api/v1/remotes/{remote}/stats`: what the operator shows on the Remote's status.
 */
export const cacheRoutes: RouteModule = (router: Router, deps: ProxyDeps) => {
  const engine = cacheEngineFor(deps);
  const local = (): LocalDeps => ({
    db: deps.db,
    blobs: deps.blobs,
    maxUploadBytes: deps.settings.maxUploadBytes,
  });

  const resolve = (ctx: Koa.Context) => resolveRemote(ctx, deps, engine.formatFor);
  const guardLocal = (remote: RemoteConfig, path: string) => guardPatterns(remote, path, engine.formatFor);

  const read = async (ctx: Koa.Context) => {
    const { remote, path } = resolve(ctx);
    if (remote.type === 'local') return getLocal(ctx, local(), remote, guardLocal(remote, path));
    const proxyBase = `${publicOrigin(ctx)}${prefix}${remote.name}`;
    await serveFromCache(ctx, engine, { remote, path, proxyBase });
  };
  router.get(`${prefix}:remote/*path`, read);
  router.head(`${prefix}:remote/*path`, read);

  router.put(`${prefix}:remote/*path`, async (ctx) => {
    const { remote, path } = resolve(ctx);
    if (remote.type !== 'local')
      throw new ApiError('METHOD_NOT_ALLOWED', `remote ${remote.name} is a cache; upload to a local remote`);
    await putLocal(ctx, local(), remote, guardLocal(remote, path));
  });
  router.delete(`${prefix}:remote/*path`, async (ctx) => {
    const { remote, path } = resolve(ctx);
    if (remote.type !== 'local')
      throw new ApiError('METHOD_NOT_ALLOWED', `remote ${remote.name} is a cache; use PUT /cache/flush`);
    await deleteLocal(ctx, local(), remote, guardLocal(remote, path));
  });

  router.put('/cache/flush', async (ctx) => {
    const q = ctx.query;
    const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    const result = await flushCache(
      {
        remote: one(q.remote),
        pattern: one(q.pattern),
        mutableOnly: truthy(one(q.mutable_only)),
        all: truthy(one(q.all)),
      },
      { config: deps.config.current(), index: engine.index, coord: deps.coord, db: deps.db },
    );
    await engine.announceFlush(truthy(one(q.all)) ? 'all' : result.remotes);
    deps.logger.info('cache flushed', { ...result });
    ctx.body = { status: 'flushed', ...result };
  });

  router.get('/api/v1/remotes/:remote/stats', async (ctx) => {
    const remote = deps.config.current().remotes.get(ctx.params.remote ?? '');
    if (!remote) throw new ApiError('REMOTE_NOT_FOUND', `no remote named ${ctx.params.remote}`);
    const counts =
      remote.type === 'local' ? await localStats(deps, remote.name) : await engine.index.stats(remote.name);
    const health = remote.type === 'local' ? { healthy: true } : await engine.health.get(remote.name);
    ctx.body = {
      remote: remote.name,
      cached_objects: counts.objects,
      cached_bytes: counts.bytes,
      last_upstream_error: health.lastError ?? null,
      last_upstream_error_at: health.lastErrorAt ?? null,
      upstream_healthy: health.healthy,
    };
  });
};

/** The configured remote and the guarded path, from the raw request URL (routers decode too early). */
function resolveRemote(
  ctx: Koa.Context,
  deps: ProxyDeps,
  formatFor: (packageType: string) => Format,
): { remote: RemoteConfig; path: string } {
  const name = ctx.params.remote ?? '';
  const remote = deps.config.current().remotes.get(name);
  if (!remote) throw new ApiError('REMOTE_NOT_FOUND', `no remote named ${name}`);
  let raw = rawPathAfter(ctx.url, `${prefix}${name}/`) ?? '';
  const format = formatFor(remote.package);
  if (format.preparePath) raw = format.preparePath(raw);
  const path = normalizePath(raw);
  // Content negotiation: each representation (PEP 691 JSON, abbreviated packuments) is its own cache path.
  if (remote.type === 'remote' && format.requestPath) {
    return { remote, path: format.requestPath(path, { accept: ctx.get('accept') || undefined }) };
  }
  return { remote, path };
}

/** Local remotes honour their patterns too (no patterns: everything allowed). */
function guardPatterns(
  remote: RemoteConfig,
  path: string,
  formatFor: (packageType: string) => Format,
): string {
  if (classifyPath(remote, formatFor(remote.package), path).kind === 'forbidden') {
    throw new ApiError('PATH_NOT_ALLOWED', `${path} matches none of the patterns of remote ${remote.name}`);
  }
  return path;
}

async function localStats(deps: ProxyDeps, remote: string): Promise<{ objects: number; bytes: number }> {
  const { rows } = await deps.db.query<{ objects: number; bytes: number | null }>(
    'SELECT count(*)::int8 AS objects, sum(size)::int8 AS bytes FROM local_files WHERE remote = $1',
    [remote],
  );
  return { objects: rows[0]?.objects ?? 0, bytes: rows[0]?.bytes ?? 0 };
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}
