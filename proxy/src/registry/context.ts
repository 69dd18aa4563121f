import type Koa from 'koa';
import type { Clock } from '../clock.ts';
import type { ConfigSource } from '../http/app.ts';
import type { Logger } from '../http/logger.ts';
import type { Settings } from '../settings.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { CatalogStore } from './catalog.ts';
import type { RegistryStore } from './hosted/store.ts';
import type { UploadStore } from './hosted/upload-store.ts';
import type { RegistryMetrics } from './metrics.ts';
import type { PullThrough } from './pull/pull-through.ts';
import type { RegistryTarget } from './route.ts';

/** Largest manifest accepted on push; the spec asks registries to accept at least 4 MiB. */
export const defaultMaxManifestBytes = 8 * 1024 * 1024;

/** Everything the registry handlers use. Built once by the route module. */
export interface RegistryDeps {
  settings: Settings;
  logger: Logger;
  clock: Clock;
  config: ConfigSource;
  blobs: BlobStore;
  store: RegistryStore;
  uploads: UploadStore;
  /** The repositories `_catalog` lists. */
  catalog: CatalogStore;
  metrics: RegistryMetrics;
  /** Pull-through for `type: remote` docker remotes (the caching engine). */
  pull: PullThrough;
  maxManifestBytes: number;
  /** Upload sessions idle longer than this are removed (with their chunks). */
  uploadIdleMs: number;
}

/** One registry request, resolved. */
export interface RegistryRequest {
  ctx: Koa.Context;
  deps: RegistryDeps;
  target: RegistryTarget;
}

/** `/v2/{clientName}/…`: Location headers use the name as the client wrote it, so they route back here. */
export function v2Path(target: RegistryTarget, rest: string): string {
  return `/v2/${target.clientName}/${rest}`;
}
