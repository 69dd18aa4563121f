import Router from '@koa/router';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { OrchardConfig } from '../config/index.ts';
import type { Coordinator } from '../coord/coordinator.ts';
import type { Database } from '../db/database.ts';
import type { Settings } from '../settings.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { ApiError } from './errors.ts';
import type { Logger } from './logger.ts';
import { accessLog, errorHandler, requestId } from './middleware.ts';
import { pinPublicOrigin } from './origin.ts';

/** The live config and the outcome of the last reload, as `/ready` reports it. */
export interface ConfigSource {
  current(): OrchardConfig;
  /** The last reload failure, cleared by the next good reload. */
  lastError(): Error | undefined;
}

/** Everything a route module may use. Built once in main.ts; tests build their own. */
export interface ProxyDeps {
  settings: Settings;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  db: Database;
  blobs: BlobStore;
  coord: Coordinator;
  config: ConfigSource;
}

/**
 * A route module adds its routes to the shared router. One per API surface.
 * A module that starts background work (sweepers, pollers) returns a handle
 * whose `close` stops it; `closeApp` calls them before the backends close.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: most modules start nothing and return nothing
export type RouteModule = (router: Router, deps: ProxyDeps) => void | ModuleHandle;

export interface ModuleHandle {
  close(): void | Promise<void>;
}

const handles = new WeakMap<Koa, ModuleHandle[]>();

export function createApp(deps: ProxyDeps, modules: RouteModule[]): Koa {
  const app = new Koa({ proxy: true });
  const router = new Router();
  const started: ModuleHandle[] = [];
  for (const mount of modules) {
    const handle = mount(router, deps);
    if (handle) started.push(handle);
  }
  handles.set(app, started);

  app.use(requestId());
  app.use(pinPublicOrigin(deps.settings.publicUrl));
  app.use(accessLog({ logger: deps.logger, registry: deps.registry }));
  app.use(errorHandler(deps.logger));
  // Runs after everything below has had its turn, so allowedMethods can still
  // answer 405 for a path that exists under another method.
  app.use(async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body == null) {
      throw new ApiError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true, methodNotAllowed: () => new ApiError('METHOD_NOT_ALLOWED') }));
  // Errors are rendered by errorHandler; Koa's default handler would print stacks to stderr.
  app.silent = true;
  return app;
}

/** Stop every module's background work. Idempotent. */
export async function closeApp(app: Koa): Promise<void> {
  const started = handles.get(app) ?? [];
  handles.delete(app);
  await Promise.allSettled(started.map((h) => h.close()));
}
