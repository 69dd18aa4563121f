import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type CacheEngine, cacheEngineFor, closeCacheEngine } from '../../proxy/src/cache/index.ts';
import { createLogger, silentLogger } from '../../proxy/src/http/logger.ts';
import { loadSettings, type Settings } from '../../proxy/src/settings.ts';
import { type RunningProxy, startProxy } from '../../proxy/src/start.ts';
import { tmpDir } from '../harness/index.ts';

/** A Remote custom resource. */
export function remote(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'orchard.dev/v1alpha1', kind: 'Remote', metadata: { name }, spec };
}

/** A VirtualRepository custom resource. */
export function virtualRepo(name: string, spec: { package: string; members: string[] }) {
  return { apiVersion: 'orchard.dev/v1alpha1', kind: 'VirtualRepository', metadata: { name }, spec };
}

export interface Orchard {
  url: string;
  proxy: RunningProxy;
  engine: CacheEngine;
  /** `{url}/api/v1/remote/{name}` */
  remoteUrl(name: string): string;
  close(): Promise<void>;
}

/**
 * A whole proxy in this process, as `npm start` builds it (`startProxy`):
 * embedded backends (PGlite, filesystem blobs, memory coordination) in a temp
 * data dir, the given custom resources as its config file, on 127.0.0.1 and a
 * random port. `ORCHARD_TEST_LOG=debug|info|warn` shows its log.
 */
export async function startOrchard(docs: unknown[], overrides: Partial<Settings> = {}): Promise<Orchard> {
  const dir = await tmpDir('formats-');
  const configPath = join(dir, 'orchard.yaml');
  await writeFile(configPath, docs.map((d) => stringify(d)).join('---\n'));
  const settings = {
    ...loadSettings({ ORCHARD_CONFIG: configPath, ORCHARD_DATA_DIR: join(dir, 'data') }),
    host: '127.0.0.1',
    port: 0,
    shutdownGraceMs: 200,
    ...overrides,
  };
  const level = process.env.ORCHARD_TEST_LOG as 'debug' | 'info' | 'warn' | undefined;
  const logger = level ? createLogger({ level, write: (l) => process.stderr.write(l) }) : silentLogger;
  const proxy = await startProxy(settings, { logger });
  return {
    url: proxy.url,
    proxy,
    engine: cacheEngineFor(proxy.deps),
    remoteUrl: (name) => `${proxy.url}/api/v1/remote/${name}`,
    close: async () => {
      await proxy.close();
      await closeCacheEngine(proxy.deps);
    },
  };
}
