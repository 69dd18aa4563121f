import { collectDefaultMetrics, Registry } from 'prom-client';
import { closeCacheEngine } from './cache/index.ts';
import { type Clock, systemClock } from './clock.ts';
import { ConfigWatcher } from './config/index.ts';
import { createCoordinator } from './coord/index.ts';
import { createDatabase } from './db/index.ts';
import { GuardedBlobStore } from './gc/index.ts';
import { closeApp, createApp, type ProxyDeps } from './http/app.ts';
import { createLogger, type Logger } from './http/logger.ts';
import { listen } from './http/server.ts';
import { routeModules } from './routes.ts';
import { embeddedBackends, type Settings } from './settings.ts';
import { createBlobStore } from './storage/index.ts';

export interface RunningProxy {
  url: string;
  deps: ProxyDeps;
  /** Graceful: stop accepting, drain in-flight requests, then close pools and watchers. */
  close(): Promise<void>;
}

/**
 * Build and start one proxy: backends chosen by settings, config loaded and
 * watched, every route module mounted. main.ts calls this; so do tests, on
 * port 0, to run whole proxies in-process.
 */
export async function startProxy(
  settings: Settings,
  opts: { logger?: Logger; registry?: Registry; clock?: Clock } = {},
): Promise<RunningProxy> {
  const logger = opts.logger ?? createLogger({ level: settings.logLevel });
  const registry = opts.registry ?? new Registry();
  const clock = opts.clock ?? systemClock;
  if (!opts.registry) collectDefaultMetrics({ register: registry });

  if (settings.clustered) {
    const embedded = embeddedBackends(settings);
    if (embedded.length > 0) {
      throw new Error(
        `ORCHARD_CLUSTERED=true needs shared backends so replicas agree, but these are embedded: ${embedded.join('; ')}`,
      );
    }
  }

  const watcher = new ConfigWatcher({ path: settings.configPath, logger, registry });
  await watcher.start();
  const [db, store, coord] = await Promise.all([
    createDatabase(settings, { logger }),
    createBlobStore(settings, { logger, registry }),
    createCoordinator(settings, { logger, clock }),
  ]);
  // Writers claim blobs they reuse, so garbage collection can run while the proxy serves.
  const blobs = new GuardedBlobStore(store, db);
  const deps: ProxyDeps = { settings, logger, registry, clock, db, blobs, coord, config: watcher };
  const app = createApp(deps, routeModules);
  const server = await listen(app, { host: settings.host, port: settings.port, logger });
  logger.info('orchard proxy listening', {
    url: server.url,
    database: db.name,
    blob_store: blobs.name,
    coordinator: coord.name,
    remotes: watcher.current().remotes.size,
  });

  return {
    url: server.url,
    deps,
    close: async () => {
      await server.close(settings.shutdownGraceMs);
      await closeApp(app);
      // Aborts fills still running and closes the upstream connection pools.
      await closeCacheEngine(deps);
      watcher.stop();
      await Promise.allSettled([db.close(), blobs.close(), coord.close()]);
    },
  };
}
