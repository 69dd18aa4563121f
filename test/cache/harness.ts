import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import type { CacheEngine } from '../../proxy/src/cache/engine.ts';
import { cacheEngineFor, closeCacheEngine } from '../../proxy/src/cache/index.ts';
import { cacheRoutes } from '../../proxy/src/cache/routes.ts';
import type { Clock } from '../../proxy/src/clock.ts';
import { normalizeDocuments, type OrchardConfig } from '../../proxy/src/config/index.ts';
import { MemoryCoordinator } from '../../proxy/src/coord/memory.ts';
import { createDatabase } from '../../proxy/src/db/index.ts';
import type { Format } from '../../proxy/src/formats/index.ts';
import { createApp, type ProxyDeps } from '../../proxy/src/http/app.ts';
import { createLogger, silentLogger } from '../../proxy/src/http/logger.ts';
import { listen, type RunningServer } from '../../proxy/src/http/server.ts';
import { systemRoutes } from '../../proxy/src/http/system-routes.ts';
import { loadSettings } from '../../proxy/src/settings.ts';
import { wrapBlobStore } from '../../proxy/src/storage/base.ts';
import type {
  BlobInfo,
  BlobStore,
  FileStaging,
  GetOptions,
  GetResult,
  PartInfo,
  PutOptions,
  PutResult,
} from '../../proxy/src/storage/blob-store.ts';
import { FsBlobStore } from '../../proxy/src/storage/fs.ts';
import { MemoryBlobStore } from '../../proxy/src/storage/memory.ts';

/**
 * A spy around a real BlobStore (distribution's statsBlobStore): counts the
 * operations and keys it saw and delegates everything.
 */
export class SpyBlobStore implements BlobStore {
  readonly name: string;
  readonly puts: string[] = [];
  readonly gets: string[] = [];
  readonly moves: [string, string][] = [];
  /** Keys published by adopting a staged file (the fs store's cache fills). */
  readonly adopts: string[] = [];
  readonly staging?: FileStaging;
  private readonly inner: BlobStore;
  constructor(inner: BlobStore) {
    this.inner = inner;
    this.name = inner.name;
    const staging = inner.staging;
    if (staging) {
      this.staging = {
        path: () => staging.path(),
        adopt: (path, key) => {
          this.adopts.push(key);
          return staging.adopt(path, key);
        },
      };
    }
  }
  put(key: string, body: Readable, opts?: PutOptions): Promise<PutResult> {
    this.puts.push(key);
    return this.inner.put(key, body, opts);
  }
  get(key: string, opts?: GetOptions): Promise<GetResult> {
    this.gets.push(key);
    return this.inner.get(key, opts);
  }
  stat(key: string): Promise<BlobInfo | undefined> {
    return this.inner.stat(key);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  move(from: string, to: string): Promise<void> {
    this.moves.push([from, to]);
    return this.inner.move(from, to);
  }
  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix);
  }
  createMultipart(key: string): Promise<string> {
    return this.inner.createMultipart(key);
  }
  putPart(key: string, id: string, n: number, body: Readable, opts?: { size?: number }): Promise<PartInfo> {
    return this.inner.putPart(key, id, n, body, opts);
  }
  listParts(key: string, id: string): Promise<PartInfo[]> {
    return this.inner.listParts(key, id);
  }
  completeMultipart(key: string, id: string, parts: number[]): Promise<{ size: number }> {
    return this.inner.completeMultipart(key, id, parts);
  }
  abortMultipart(key: string, id: string): Promise<void> {
    return this.inner.abortMultipart(key, id);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  /** Every key in the store. */
  async keys(prefix = ''): Promise<string[]> {
    const out: string[] = [];
    for await (const b of this.inner.list(prefix)) out.push(b.key);
    return out.sort();
  }
}

/** A Remote custom resource, as the operator or a config file would give it. */
export function remoteDoc(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'orchard.dev/v1alpha1', kind: 'Remote', metadata: { name }, spec };
}

export function secretDoc(name: string, stringData: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData };
}

export function buildConfig(objects: unknown[]): OrchardConfig {
  return normalizeDocuments(objects.map((object, i) => ({ file: 'test', index: i + 1, object })));
}

export interface CacheProxy {
  url: string;
  /** The proxy's data directory (the fs store lives in `blobs/` under it). */
  dataDir: string;
  deps: ProxyDeps;
  engine: CacheEngine;
  blobs: SpyBlobStore;
  registry: Registry;
  setConfig(objects: unknown[]): void;
  /** `http` on `/api/v1/remote/{remote}/{path}`, then wait until the fills it started are committed. */
  get(remote: string, path: string, opts?: Parameters<typeof http>[1]): Promise<HttpResult>;
  /** Value of one sample of a metric family, by labels (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * A whole proxy in this process on a random port: PGlite in memory, a memory
 * (or given) blob store wrapped by the real base layer and a spy, a memory
 * coordinator, the cache routes and the system routes.
 */
export async function startCacheProxy(opts: {
  /** Custom resources, or an already built config. */
  config: unknown[] | OrchardConfig;
  formatFor?: (packageType: string) => Format;
  clock?: Clock;
  coord?: MemoryCoordinator;
  /** `fs` (under the proxy's data dir), `memory` (default), or a store. */
  blobs?: BlobStore | 'fs' | 'memory';
  env?: Record<string, string>;
}): Promise<CacheProxy> {
  const dataDir = await mkdtemp(join(tmpdir(), 'orchard-cache-test-'));
  const settings = {
    ...loadSettings({ ORCHARD_DATA_DIR: dataDir, ...opts.env }),
    port: 0,
    host: '127.0.0.1',
  };
  const registry = new Registry();
  const clock = opts.clock ?? { now: () => Date.now() };
  const inner =
    opts.blobs === 'fs'
      ? new FsBlobStore({ root: join(dataDir, 'blobs') })
      : opts.blobs === 'memory' || !opts.blobs
        ? new MemoryBlobStore()
        : opts.blobs;
  const blobs = new SpyBlobStore(wrapBlobStore(inner, { registry }));
  const db = await createDatabase(settings, { logger: silentLogger, engine: 'memory' });
  const coord = opts.coord ?? new MemoryCoordinator({ clock });
  let cfg = Array.isArray(opts.config) ? buildConfig(opts.config) : opts.config;
  const config = { current: () => cfg, lastError: () => undefined };
  // ORCHARD_TEST_LOG=debug|info|warn|error shows the proxy's log while debugging a suite.
  const level = process.env.ORCHARD_TEST_LOG as 'debug' | 'info' | 'warn' | 'error' | undefined;
  const logger = level ? createLogger({ level, write: (l) => process.stderr.write(l) }) : silentLogger;
  const deps: ProxyDeps = { settings, logger, registry, clock, db, blobs, coord, config };
  // Created before the routes ask for it, so it sees this proxy's ORCHARD_CACHE_*/ORCHARD_UPSTREAM_* overrides.
  const engine = cacheEngineFor(deps, { env: { ...process.env, ...opts.env }, formatFor: opts.formatFor });
  const app = createApp(deps, [systemRoutes, cacheRoutes]);
  const server: RunningServer = await listen(app, { host: '127.0.0.1', port: 0, logger: silentLogger });
  return {
    url: server.url,
    dataDir,
    deps,
    engine,
    blobs,
    registry,
    setConfig: (objects) => {
      cfg = buildConfig(objects);
    },
    get: async (remote, path, opts) => {
      const r = await http(`${server.url}/api/v1/remote/${remote}/${path}`, opts);
      await engine.idle();
      return r;
    },
    metric: async (name, labels = {}) => {
      const m = registry.getSingleMetric(name);
      if (!m) return 0;
      const { values } = await m.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
        .filter((v) => !('metricName' in v) || !String(v.metricName).endsWith('_bucket'))
        .reduce((sum, v) => sum + v.value, 0);
    },
    close: async () => {
      await server.close(100);
      await closeCacheEngine(deps);
      await Promise.allSettled([db.close(), blobs.close(), coord.close()]);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Set when the response was cut short (socket destroyed) instead of ending cleanly. */
  aborted?: Error;
}

/**
 * One HTTP request with a raw, unnormalized path (fetch would resolve `..`),
 * no connection reuse, reporting an aborted body instead of throwing.
 */
export function http(
  url: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    onData?: (n: number) => void;
  } = {},
): Promise<HttpResult> {
  const u = new URL(url.replace(/^(http:\/\/[^/]+).*$/, '$1'));
  const path = url.slice(u.origin.length);
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          opts.onData?.(c.length);
        });
        const done = (aborted?: Error) =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            aborted,
          });
        res.on('end', () => done(res.complete ? undefined : new Error('incomplete body')));
        res.on('error', (err) => done(err));
        res.on('aborted', () => done(new Error('aborted')));
      },
    );
    // A connection cut before the response head arrived is an aborted response too.
    req.on('error', (err) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), aborted: err }));
    req.end(opts.body);
  });
}

export function json(r: HttpResult): Record<string, unknown> {
  return JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
}
