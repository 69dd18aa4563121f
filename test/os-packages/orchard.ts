import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { type CacheEngine, cacheEngineFor, closeCacheEngine } from '../../proxy/src/cache/index.ts';
import type { Clock } from '../../proxy/src/clock.ts';
import { createLogger } from '../../proxy/src/http/logger.ts';
import { loadSettings } from '../../proxy/src/settings.ts';
import { type RunningProxy, startProxy } from '../../proxy/src/start.ts';
import { tmpDir } from '../harness/index.ts';
import type { TestUpstream } from '../upstreams/server.ts';

/** A Remote custom resource. */
export function remote(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'orchard.dev/v1alpha1', kind: 'Remote', metadata: { name }, spec };
}

export interface Orchard {
  url: string;
  proxy: RunningProxy;
  engine: CacheEngine;
  /** `{url}/api/v1/remote/{name}` */
  remoteUrl(name: string): string;
  /** Orchard's recent warnings and errors (JSON lines), for failure messages. */
  logs(): string;
  /** The value of a counter or gauge sample on /metrics whose labels include `labels`, or 0. */
  metric(name: string, labels: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * A whole proxy in this process, as `npm start` builds it (`startProxy`):
 * embedded backends (PGlite, filesystem blobs, memory coordination) in a temp
 * data dir, the given custom resources as its config file, on 127.0.0.1 and a
 * random port, on `clock` when given. `ORCHARD_TEST_LOG=debug|info|warn` shows its log.
 */
export async function startOrchard(docs: unknown[], opts: { clock?: Clock } = {}): Promise<Orchard> {
  const dir = await tmpDir('os-packages-');
  const configPath = join(dir, 'orchard.yaml');
  await writeFile(configPath, docs.map((d) => stringify(d)).join('---\n'));
  const settings = {
    ...loadSettings({ ORCHARD_CONFIG: configPath, ORCHARD_DATA_DIR: join(dir, 'data') }),
    host: '127.0.0.1',
    port: 0,
    shutdownGraceMs: 200,
  };
  const level = process.env.ORCHARD_TEST_LOG as 'debug' | 'info' | 'warn' | undefined;
  // Warnings and errors are kept (the last 50) for failure messages; ORCHARD_TEST_LOG also prints them.
  const recent: string[] = [];
  const logger = createLogger({
    level: level ?? 'warn',
    write: (line) => {
      if (level) process.stderr.write(line);
      recent.push(line);
      if (recent.length > 50) recent.shift();
    },
  });
  const proxy = await startProxy(settings, { logger, clock: opts.clock });
  return {
    url: proxy.url,
    proxy,
    engine: cacheEngineFor(proxy.deps),
    remoteUrl: (name) => `${proxy.url}/api/v1/remote/${name}`,
    logs: () => recent.join(''),
    metric: async (name, labels) => {
      const text = await (await fetch(`${proxy.url}/metrics`)).text();
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
        if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return 0;
    },
    close: async () => {
      await proxy.close();
      await closeCacheEngine(proxy.deps);
    },
  };
}

/** Real time plus an offset tests move forward, so TTLs expire without sleeping while leases still run. */
export class OffsetClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

/**
 * Serve every file under `dir` from `upstream` at `/{relative path}`, with its
 * mtime as Last-Modified, replacing what was served before under the same
 * paths. Files removed from `dir` since the last call are removed too.
 */
export async function serveTree(
  upstream: TestUpstream,
  dir: string,
  served = new Set<string>(),
): Promise<Set<string>> {
  const now = new Set<string>();
  for (const file of await listFiles(dir)) {
    const path = `/${relative(dir, file)}`;
    const info = await stat(file);
    upstream.set(path, { body: await readFile(file), lastModified: info.mtime });
    now.add(path);
  }
  for (const path of served) if (!now.has(path)) upstream.delete(path);
  return now;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}
