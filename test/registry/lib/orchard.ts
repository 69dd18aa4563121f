import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { cacheEngineFor } from '../../../proxy/src/cache/index.ts';
import { createLogger } from '../../../proxy/src/http/logger.ts';
import { loadSettings } from '../../../proxy/src/settings.ts';
import { type RunningProxy, startProxy } from '../../../proxy/src/start.ts';
import { tmpDir } from '../../harness/index.ts';

export interface Orchard {
  url: string;
  /** `127.0.0.1:PORT`, for image references. */
  host: string;
  proxy: RunningProxy;
  /** Every log line the proxy wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Request log lines (`msg: request`). */
  requests(): { method: string; path: string; status: number; route: string }[];
  metrics(): Promise<string>;
  /** Resolves once the cache fills in flight have committed (a streamed miss commits after the client got it). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A whole Orchard proxy in this process on a random port, with the given
 * Remote documents (YAML) as its config and embedded backends (PGlite on
 * disk, fs blobs, memory coordination) under a fresh data directory, unless
 * `env` selects others.
 */
export async function startOrchard(opts: {
  config: string;
  env?: Record<string, string>;
  dataDir?: string;
}): Promise<Orchard> {
  const dir = opts.dataDir ?? (await tmpDir('registry-'));
  const configDir = join(dir, 'config');
  await import('node:fs/promises').then((fs) => fs.mkdir(configDir, { recursive: true }));
  await writeFile(join(configDir, 'remotes.yaml'), opts.config);
  const settings = loadSettings({
    ORCHARD_CONFIG: configDir,
    ORCHARD_DATA_DIR: join(dir, 'data'),
    ORCHARD_SERVER_HOST: '127.0.0.1',
    ORCHARD_SERVER_PORT: '0',
    ORCHARD_SHUTDOWN_GRACE_MS: '2000',
    ...opts.env,
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', write: (line) => void logs.push(JSON.parse(line)) });
  const registry = new Registry();
  const proxy = await startProxy(settings, { logger, registry });
  const url = proxy.url.replace('0.0.0.0', '127.0.0.1');
  return {
    url,
    host: new URL(url).host,
    proxy,
    logs,
    requests: () =>
      logs
        .filter((l) => l.msg === 'request')
        .map((l) => ({
          method: String(l.method),
          path: String(l.path),
          status: Number(l.status),
          route: String(l.route),
        })),
    metrics: () => registry.metrics(),
    settled: () => cacheEngineFor(proxy.deps).idle(),
    close: () => proxy.close(),
  };
}

/** YAML for one docker Remote. */
export function dockerRemote(name: string, spec: Record<string, unknown>): string {
  const lines = ['apiVersion: orchard.dev/v1alpha1', 'kind: Remote', 'metadata:', `  name: ${name}`, 'spec:'];
  lines.push(`  package: docker`);
  for (const [k, v] of Object.entries(spec)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  return `${lines.join('\n')}\n---\n`;
}
