/**
 * Blob store backends register here by name (as distribution's
 * storage/driver/factory does); `createBlobStore` picks one from the settings
 * and wraps it in `base.ts`. Adding a backend is one `registerBlobStore` call.
 */
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../http/logger.ts';
import type { Settings } from '../settings.ts';
import { wrapBlobStore } from './base.ts';
import type { BlobStore } from './blob-store.ts';
import { FsBlobStore } from './fs.ts';
import { MemoryBlobStore } from './memory.ts';

export { wrapBlobStore } from './base.ts';
export type { BlobInfo, BlobStore, ByteRange, GetResult, PartInfo, PutResult } from './blob-store.ts';
export { blobKey, MIN_PART_SIZE } from './blob-store.ts';
export * from './errors.ts';
export { EMPTY_SHA256, HashingStream, sha256Hex } from './hashing.ts';

export interface BlobStoreDeps {
  /** For the backend's own startup line (where its data lives; never credentials). */
  logger: Logger;
}

/** Builds an unwrapped backend from the runtime settings. */
export type BlobStoreFactory = (settings: Settings, deps: BlobStoreDeps) => BlobStore | Promise<BlobStore>;

const factories = new Map<string, BlobStoreFactory>();

/** Make a backend available under `name`. Registering a name twice is a programming error. */
export function registerBlobStore(name: string, factory: BlobStoreFactory): void {
  if (factories.has(name))
    throw new Error(`blob store backend ${JSON.stringify(name)} is already registered`);
  factories.set(name, factory);
}

export function registeredBlobStores(): string[] {
  return [...factories.keys()];
}

registerBlobStore('memory', (_s, { logger }) => {
  logger.warn('blob store keeps objects in memory; they are lost on exit');
  return new MemoryBlobStore();
});
/** Temp files older than this at start are leftovers of a crashed process (the fs store has one writer). */
const FS_STALE_TEMP_MS = 60 * 60 * 1000;

registerBlobStore('fs', (s, { logger }) => {
  const root = join(s.dataDir, 'blobs');
  logger.info('blob store on the filesystem', { dir: root });
  const store = new FsBlobStore({ root });
  store.removeStaleTemp(FS_STALE_TEMP_MS).then(
    (removed) => removed > 0 && logger.info('removed stale temp files', { removed }),
    (err: unknown) => logger.warn('could not remove stale temp files', { err }),
  );
  return store;
});
registerBlobStore('s3', async (s, { logger }) => {
  if (!s.s3) throw new Error('the s3 blob store needs ORCHARD_S3_ENDPOINT or ORCHARD_S3_BUCKET');
  // Loaded on demand: the AWS SDK is large and the embedded default does not need it.
  const { S3BlobStore } = await import('./s3.ts');
  logger.info('blob store on S3', { endpoint: s.s3.endpoint ?? '(AWS default)', bucket: s.s3.bucket });
  return new S3BlobStore({ ...s.s3, logger });
});

/**
 * The blob store the settings ask for: `s3` when `settings.s3` is set,
 * otherwise `fs` under `${dataDir}/blobs` (or `opts.backend` to force one),
 * always wrapped by `base.ts` so keys are validated and operations timed into
 * `opts.registry`.
 */
export async function createBlobStore(
  settings: Settings,
  opts: { registry: Registry; logger: Logger; backend?: string },
): Promise<BlobStore> {
  const name = opts.backend ?? (settings.s3 ? 's3' : 'fs');
  const factory = factories.get(name);
  if (!factory) {
    throw new Error(
      `unknown blob store backend ${JSON.stringify(name)}; known: ${registeredBlobStores().join(', ')}`,
    );
  }
  const store = await factory(settings, {
    logger: opts.logger.child({ component: 'storage', backend: name }),
  });
  return wrapBlobStore(store, { registry: opts.registry });
}
