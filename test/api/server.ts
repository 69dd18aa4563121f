// An in-process proxy serving only the hosted API, on a random loopback port,
// over whichever BlobStore and Database a suite hands it.
import { Registry } from 'prom-client';
import {
  type ConfigSync,
  type HostedLimits,
  hostedApi,
  type UploadSweeper,
} from '../../proxy/src/api/index.ts';
import type { Clock } from '../../proxy/src/clock.ts';
import { systemClock } from '../../proxy/src/clock.ts';
import { MemoryCoordinator } from '../../proxy/src/coord/memory.ts';
import type { Database } from '../../proxy/src/db/database.ts';
import { createDatabase } from '../../proxy/src/db/index.ts';
import { type ConfigSource, createApp, type ProxyDeps } from '../../proxy/src/http/app.ts';
import { createLogger } from '../../proxy/src/http/logger.ts';
import { listen } from '../../proxy/src/http/server.ts';
import { loadSettings } from '../../proxy/src/settings.ts';
import { wrapBlobStore } from '../../proxy/src/storage/base.ts';
import type { BlobStore } from '../../proxy/src/storage/blob-store.ts';
import { MemoryBlobStore } from '../../proxy/src/storage/memory.ts';

export interface TestServer {
  url: string;
  db: Database;
  blobs: BlobStore;
  sweeper: UploadSweeper;
  configSync: ConfigSync;
  close(opts?: { keepBackends?: boolean }): Promise<void>;
}

export interface TestServerOptions {
  blobs?: BlobStore;
  db?: Database;
  clock?: Clock;
  limits?: Partial<HostedLimits>;
  config?: ConfigSource;
  /** Run the sweeper's timer at this interval (default: off; tests call sweepOnce). */
  sweepIntervalMs?: number;
}

const quietLogger = createLogger({ level: 'error', write: () => {} });

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const registry = new Registry();
  const settings = { ...loadSettings({}), host: '127.0.0.1', port: 0 };
  const db = opts.db ?? (await createDatabase(settings, { logger: quietLogger, engine: 'memory' }));
  const blobs = opts.blobs ?? wrapBlobStore(new MemoryBlobStore(), { registry });
  const config =
    opts.config ?? ({ current: () => ({}), lastError: () => undefined } as unknown as ConfigSource);
  const deps: ProxyDeps = {
    settings,
    logger: quietLogger,
    registry,
    clock: opts.clock ?? systemClock,
    db,
    blobs,
    coord: new MemoryCoordinator(),
    config,
  };
  let sweeper: UploadSweeper | undefined;
  let configSync: ConfigSync | undefined;
  const module = hostedApi({
    limits: opts.limits,
    sweepIntervalMs: opts.sweepIntervalMs ?? 0,
    configSyncIntervalMs: 0,
    onSweeper: (s) => (sweeper = s),
    onConfigSync: (s) => (configSync = s),
  });
  const app = createApp(deps, [module]);
  const server = await listen(app, { host: '127.0.0.1', port: 0, logger: quietLogger });
  return {
    url: server.url,
    db,
    blobs,
    sweeper: sweeper!,
    configSync: configSync!,
    close: async ({ keepBackends = false } = {}) => {
      await server.close(1000);
      if (!keepBackends) await Promise.allSettled([db.close(), blobs.close()]);
    },
  };
}

/** JSON request helper: returns status, headers and parsed body. */
export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** Upload `data` as multipart form field `file` (plus extra fields), like `curl -F file=@name -F tag=…`. */
export async function upload(
  base: string,
  project: string,
  pkg: string,
  data: Buffer | string,
  opts: { filename?: string; fields?: Record<string, string>; headers?: Record<string, string> } = {},
) {
  const form = new FormData();
  form.append('file', new Blob([data]), opts.filename ?? 'file.bin');
  for (const [k, v] of Object.entries(opts.fields ?? {})) form.append(k, v);
  const res = await fetch(`${base}/api/v1/project/${project}/${pkg}/upload`, {
    method: 'POST',
    body: form,
    headers: opts.headers,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}
