import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultUpstreamTimeouts } from '../upstream/client.ts';

/**
 * Tunables of the caching engine, from `ORCHARD_CACHE_*` and
 * `ORCHARD_UPSTREAM_*` environment variables. All are optional; the defaults
 * suit production. Listed in docs/caching.md.
 */
export interface CacheSettings {
  /** Where fills spool bodies: `ORCHARD_CACHE_SPOOL_DIR`, default `${dataDir}/spool`. */
  spoolDir: string;
  /** Fill lock lease: `ORCHARD_CACHE_FILL_LEASE_MS`, default 15000. */
  fillLeaseMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
}

export function cacheSettingsFromEnv(
  dataDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): CacheSettings {
  return {
    spoolDir: env.ORCHARD_CACHE_SPOOL_DIR || join(dataDir ?? tmpdir(), 'spool'),
    fillLeaseMs: ms(env.ORCHARD_CACHE_FILL_LEASE_MS, 15_000, 'ORCHARD_CACHE_FILL_LEASE_MS'),
    connectTimeoutMs: ms(
      env.ORCHARD_UPSTREAM_CONNECT_TIMEOUT_MS,
      defaultUpstreamTimeouts.connectTimeoutMs,
      'ORCHARD_UPSTREAM_CONNECT_TIMEOUT_MS',
    ),
    headersTimeoutMs: ms(
      env.ORCHARD_UPSTREAM_HEADERS_TIMEOUT_MS,
      defaultUpstreamTimeouts.headersTimeoutMs,
      'ORCHARD_UPSTREAM_HEADERS_TIMEOUT_MS',
    ),
    bodyIdleTimeoutMs: ms(
      env.ORCHARD_UPSTREAM_IDLE_TIMEOUT_MS,
      defaultUpstreamTimeouts.bodyIdleTimeoutMs,
      'ORCHARD_UPSTREAM_IDLE_TIMEOUT_MS',
    ),
  };
}

function ms(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name}: expected a positive integer of ms, got ${JSON.stringify(v)}`);
  return n;
}
