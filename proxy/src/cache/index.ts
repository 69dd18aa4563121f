import '../formats/index.ts';
import type { ProxyDeps } from '../http/app.ts';
import { CacheEngine, type CacheEngineOptions } from './engine.ts';
import { cacheSettingsFromEnv } from './settings.ts';

export type { CachedObject, CacheEngineOptions, CacheRequest, CacheResult } from './engine.ts';
export { CacheEngine } from './engine.ts';
export { normalizePath, rawPathAfter } from './path-guard.ts';
export { readObject } from './read-object.ts';
export { respond, serveFromCache } from './serve.ts';
export { type CacheSettings, cacheSettingsFromEnv } from './settings.ts';

const engines = new WeakMap<ProxyDeps, CacheEngine>();

/**
 * The one CacheEngine of a proxy. Every route module that proxies a remote
 * (the remote API, the registry, virtual repositories) gets the same engine,
 * so single-flight and metrics are shared. Created on first use from `deps`
 * and the `ORCHARD_CACHE_*` / `ORCHARD_UPSTREAM_*` variables of `env`.
 * `overrides` (tests) apply only when this call creates the engine.
 */
export function cacheEngineFor(
  deps: ProxyDeps,
  overrides: { env?: NodeJS.ProcessEnv } & Pick<CacheEngineOptions, 'formatFor' | 'upstream'> = {},
): CacheEngine {
  let engine = engines.get(deps);
  if (!engine) {
    const { env = process.env, ...rest } = overrides;
    const s = cacheSettingsFromEnv(deps.settings.dataDir, env);
    engine = new CacheEngine({
      db: deps.db,
      blobs: deps.blobs,
      coord: deps.coord,
      logger: deps.logger.child({ component: 'cache' }),
      clock: deps.clock,
      registry: deps.registry,
      config: deps.config,
      spoolDir: s.spoolDir,
      fillLeaseMs: s.fillLeaseMs,
      entryMemoryMs: s.entryMemoryMs,
      blobMemoryBytes: s.blobMemoryBytes,
      upstreamOptions: {
        connectTimeoutMs: s.connectTimeoutMs,
        headersTimeoutMs: s.headersTimeoutMs,
        bodyIdleTimeoutMs: s.bodyIdleTimeoutMs,
      },
      ...rest,
    });
    engines.set(deps, engine);
  }
  return engine;
}

/** Close the proxy's engine, if one was created (aborts fills, closes upstream pools). */
export async function closeCacheEngine(deps: ProxyDeps): Promise<void> {
  const engine = engines.get(deps);
  engines.delete(deps);
  await engine?.close();
}
