import type Router from '@koa/router';
import type { ProxyDeps, RouteModule } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { BlobCollector } from './collector.ts';

export { BlobCollector, type GcReport } from './collector.ts';
export { GuardedBlobStore } from './guard.ts';

export interface BlobGcOptions {
  /** Receives the collector so tests can drive it. */
  onCollector?: (collector: BlobCollector) => void;
}

/**
 * Blob garbage collection: the periodic collector (`ORCHARD_BLOB_GC_INTERVAL_SECONDS`,
 * 0 = only on demand) and its admin endpoints:
 * - `POST /api/v1/admin/gc[?dryRun=true]` runs a collection now and returns
 *   its report; 409 `CONFLICT` when another replica is collecting;
 * - `GET /api/v1/admin/gc` returns this process's last report (404 before the first).
 */
export function blobGc(opts: BlobGcOptions = {}): RouteModule {
  return (router: Router, deps: ProxyDeps) => {
    const collector = new BlobCollector(deps, { graceMs: deps.settings.blobGc.graceMs });
    collector.start(deps.settings.blobGc.intervalMs);
    opts.onCollector?.(collector);
    router.post('/api/v1/admin/gc', async (ctx) => {
      const dryRun = ctx.query.dryRun;
      if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false') {
        throw new ApiError('BAD_REQUEST', 'dryRun must be true or false');
      }
      const report = await collector.runOnce({ dryRun: dryRun === 'true' });
      if (report.skipped) throw new ApiError('CONFLICT', 'Another replica is collecting garbage right now.');
      ctx.body = report;
    });
    router.get('/api/v1/admin/gc', (ctx) => {
      const last = collector.lastReport;
      if (!last) throw new ApiError('NOT_FOUND', 'No garbage collection has run in this process yet.');
      ctx.body = last;
    });
    return { close: () => collector.stop() };
  };
}

/** The module `routes.ts` mounts. */
export const blobGcRoutes: RouteModule = blobGc();
