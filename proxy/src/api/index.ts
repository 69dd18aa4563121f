import type Router from '@koa/router';
import type { ProxyDeps, RouteModule } from '../http/app.ts';
import { defaultExtractors } from '../metadata/index.ts';
import { mountArtifacts } from './artifacts.ts';
import { ConfigSync } from './config-sync.ts';
import { defaultHostedLimits, type HostedDeps, type HostedLimits } from './context.ts';
import { mountDocs } from './docs.ts';
import { mountDownloads } from './download.ts';
import { mountPackages } from './packages.ts';
import { mountProjects } from './projects.ts';
import { mountResumable } from './resumable.ts';
import { UploadSweeper } from './sweeper.ts';
import { mountTags } from './tags.ts';
import { mountUpload } from './upload.ts';

export { ConfigSync } from './config-sync.ts';
export type { HostedDeps, HostedLimits } from './context.ts';
export { UploadSweeper } from './sweeper.ts';

export interface HostedApiOptions {
  limits?: Partial<HostedLimits>;
  /** Sweep abandoned uploads this often; 0 disables the timer (tests call `sweeper.sweepOnce`). */
  sweepIntervalMs?: number;
  /** Receives the sweeper so tests (and a future lifecycle hook) can drive or stop it. */
  onSweeper?: (sweeper: UploadSweeper) => void;
  /** Check the config for new Project/Package resources this often; 0 disables the timer. */
  configSyncIntervalMs?: number;
  onConfigSync?: (sync: ConfigSync) => void;
}

/**
 * The hosted-artifact API (issue 3): projects, packages, uploads (plain and
 * resumable), downloads, tags, artifacts, consumers, and the OpenAPI docs.
 * Route order matters where patterns overlap: package routes come before
 * the `/{package}/…` ones, so `/packages/{name}` always means a package.
 */
export function hostedApi(opts: HostedApiOptions = {}): RouteModule {
  return (router: Router, proxy: ProxyDeps) => {
    const deps: HostedDeps = {
      ...proxy,
      extractors: defaultExtractors(),
      limits: { ...defaultHostedLimits, maxUploadBytes: proxy.settings.maxUploadBytes, ...opts.limits },
    };
    mountDocs(router);
    mountProjects(router, deps);
    mountPackages(router, deps);
    mountResumable(router, deps);
    mountUpload(router, deps);
    mountTags(router, deps);
    mountArtifacts(router, deps);
    mountDownloads(router, deps);
    const sweeper = new UploadSweeper(deps);
    const interval = opts.sweepIntervalMs ?? 60_000;
    if (interval > 0) sweeper.start(interval);
    opts.onSweeper?.(sweeper);
    const sync = new ConfigSync(deps);
    deps.configSync = sync;
    const syncInterval = opts.configSyncIntervalMs ?? 5_000;
    if (syncInterval > 0) sync.start(syncInterval);
    opts.onConfigSync?.(sync);
    return {
      close: () => {
        sweeper.stop();
        sync.stop();
      },
    };
  };
}

/** The module `routes.ts` mounts. */
export const hostedApiRoutes: RouteModule = hostedApi();
