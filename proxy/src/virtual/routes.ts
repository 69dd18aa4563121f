import type Router from '@koa/router';
import type Koa from 'koa';
import { cacheEngineFor, normalizePath, rawPathAfter, respond, serveFromCache } from '../cache/index.ts';
import type { ProxyDeps, RouteModule } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { publicOrigin } from '../http/origin.ts';
import { MergedStore } from './merged-store.ts';
import { IndexMerger, membersOf, mergedResult, type VirtualDeps, type VirtualRequest } from './virtual.ts';

const prefix = '/api/v1/virtual/';

/**
 * `GET|HEAD /api/v1/virtual/{virtual}/{path}` (the seed's virtual endpoint):
 * - an index the package type merges (helm `index.yaml`, npm packuments, PyPI
 *   simple pages) is merged from the members' own cached copies, first member
 *   winning, and kept for the smallest member `mutableTtl`;
 * - anything else is served by the first member that has it (a member's 404
 *   or 403 moves on to the next; any other answer, quarantine included, is
 *   final, so a later member cannot shadow an earlier one's package).
 */
export const virtualRoutes: RouteModule = (router: Router, deps: ProxyDeps) => {
  const engine = cacheEngineFor(deps);
  const vdeps: VirtualDeps = {
    engine,
    store: new MergedStore({ coord: deps.coord, blobs: deps.blobs }),
    blobs: deps.blobs,
    clock: deps.clock,
    logger: deps.logger.child({ component: 'virtual' }),
  };
  const merger = new IndexMerger(vdeps);

  const read = async (ctx: Koa.Context) => {
    const req = resolve(ctx, deps, engine.formatFor);
    if (req.format.mergeIndexes && req.format.indexHandler?.(req.path, undefined)) {
      const { entry, fresh } = await merger.merged(req);
      await respond(ctx, mergedResult(vdeps, entry, fresh));
      return;
    }
    await serveFirstMember(ctx, engine, req);
  };
  router.get(`${prefix}:virtual/*path`, read);
  router.head(`${prefix}:virtual/*path`, read);
};

function resolve(
  ctx: Koa.Context,
  deps: ProxyDeps,
  formatFor: VirtualDeps['engine']['formatFor'],
): VirtualRequest {
  const config = deps.config.current();
  const name = ctx.params.virtual ?? '';
  const virtual = config.virtuals.get(name);
  if (!virtual) throw new ApiError('NOT_FOUND', `no virtual repository named ${name}`);
  const format = formatFor(virtual.package);
  let raw = rawPathAfter(ctx.url, `${prefix}${name}/`) ?? '';
  if (format.preparePath) raw = format.preparePath(raw);
  let path = normalizePath(raw);
  if (format.requestPath) path = format.requestPath(path, { accept: ctx.get('accept') || undefined });
  const origin = publicOrigin(ctx);
  return {
    virtual,
    members: membersOf(config, virtual),
    format,
    path,
    memberBase: (member) => `${origin}/api/v1/remote/${member}`,
    proxyBase: `${origin}${prefix}${name}`,
  };
}

async function serveFirstMember(
  ctx: Koa.Context,
  engine: VirtualDeps['engine'],
  req: VirtualRequest,
): Promise<void> {
  for (const remote of req.members) {
    try {
      await serveFromCache(ctx, engine, { remote, path: req.path, proxyBase: req.memberBase(remote.name) });
      return;
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'NOT_FOUND' || err.code === 'PATH_NOT_ALLOWED')) continue;
      throw err;
    }
  }
  throw new ApiError('NOT_FOUND', `no member of virtual repository ${req.virtual.name} has ${req.path}`);
}
