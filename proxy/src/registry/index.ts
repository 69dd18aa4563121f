import type Router from '@koa/router';
import type Koa from 'koa';
import { cacheEngineFor } from '../cache/index.ts';
import '../formats/docker/index.ts';
import { rawPathAfter } from '../cache/path-guard.ts';
import type { ProxyDeps, RouteModule } from '../http/app.ts';
import { CatalogStore, serveCatalog } from './catalog.ts';
import { defaultMaxManifestBytes, type RegistryDeps } from './context.ts';
import { dispatch } from './dispatch.ts';
import { type NotFoundKind, OciError, ociErrorBody, toOciError } from './errors.ts';
import { RegistryStore } from './hosted/store.ts';
import { UploadStore } from './hosted/upload-store.ts';
import { createRegistryMetrics } from './metrics.ts';
import { EnginePullThrough } from './pull/pull-through.ts';
import {
  parseV2Path,
  type RegistryTarget,
  resolveTarget,
  routeTemplates,
  type V2Operation,
} from './route.ts';

/** Upload sessions idle this long are removed with their chunks (distribution's default is a week; a day suffices). */
const defaultUploadIdleMs = 24 * 60 * 60_000;

/**
 * The OCI distribution API under `/v2/`: pull-through for docker remotes,
 * hosted push for docker remotes of `type: local`, and containerd mirror
 * routing (see `route.ts` for how a name picks its remote). Every response
 * carries `Docker-Distribution-API-Version: registry/2.0`; every error uses
 * the spec's envelope. `GET /v2/_catalog` lists the repositories of every
 * docker remote (`catalog.ts`).
 */
export const registryRoutes: RouteModule = (router: Router, deps: ProxyDeps) => {
  const rdeps = registryDeps(deps);
  router.all('/v2{/*rest}', (ctx) => handle(ctx, rdeps));
};

export function registryDeps(deps: ProxyDeps, overrides: Partial<RegistryDeps> = {}): RegistryDeps {
  return {
    settings: deps.settings,
    logger: deps.logger.child({ component: 'registry' }),
    clock: deps.clock,
    config: deps.config,
    blobs: deps.blobs,
    store: new RegistryStore(deps.db),
    uploads: new UploadStore(deps.db),
    catalog: new CatalogStore(deps.db),
    metrics: createRegistryMetrics(deps.registry),
    pull: new EnginePullThrough(cacheEngineFor(deps)),
    maxManifestBytes: defaultMaxManifestBytes,
    uploadIdleMs: defaultUploadIdleMs,
    ...overrides,
  };
}

async function handle(ctx: Koa.Context, deps: RegistryDeps): Promise<void> {
  ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
  const raw = rawPathAfter(ctx.url, '/v2/') ?? '';
  const op = parseV2Path(raw);
  // The access log labels requests by route template; this one route serves them all.
  (ctx as unknown as { _matchedRoute?: string })._matchedRoute = op ? routeTemplates[op.kind] : '/v2/*';
  let target: RegistryTarget | undefined;
  try {
    if (!op) throw new OciError('UNSUPPORTED', 'no such registry endpoint', { status: 404 });
    if (op.kind === 'base') return base(ctx);
    if (op.kind === 'catalog') return await serveCatalog(ctx, deps.config.current(), deps.catalog);
    const ns = typeof ctx.query.ns === 'string' ? ctx.query.ns : undefined;
    target = resolveTarget(deps.config.current(), op.name, ns);
    await dispatch({ ctx, deps, target }, op);
  } catch (thrown) {
    const err = toOciError(thrown, notFoundKind(op));
    if (ctx.headerSent) throw thrown;
    if (err.status >= 500) {
      deps.logger.error('registry request failed', {
        request_id: ctx.state.requestId,
        code: err.code,
        error: err.cause ?? err,
      });
    }
    ctx.status = err.status;
    for (const [k, v] of Object.entries(err.headers ?? {})) ctx.set(k, v);
    ctx.body = ociErrorBody(err);
  } finally {
    if (target) count(ctx, deps, target, op!);
  }
}

/** `GET /v2/` (end-1): the API exists. No authentication is asked for. */
function base(ctx: Koa.Context): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    throw new OciError('UNSUPPORTED', undefined, { headers: { Allow: 'GET, HEAD' } });
  }
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = '{}';
}

function notFoundKind(op: V2Operation | undefined): NotFoundKind {
  switch (op?.kind) {
    case 'manifest':
      return 'manifest';
    case 'blob':
      return 'blob';
    case 'upload':
      return 'upload';
    default:
      return 'name';
  }
}

function count(ctx: Koa.Context, deps: RegistryDeps, target: RegistryTarget, op: V2Operation): void {
  const labels = { remote: target.remote.name, mode: target.mode, operation: op.kind };
  ctx.res.once('close', () => deps.metrics.requests.inc({ ...labels, status: String(ctx.status) }));
}
