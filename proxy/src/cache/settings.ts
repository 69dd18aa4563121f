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
  /** How long a warm hit may trust a remembered index row: `ORCHARD_CACHE_ENTRY_MEMORY_MS`, default 5000, 0 = off. */
  entryMemoryMs: number;
  /** Bytes of small blobs (≤ 4 MiB each) kept in memory: `ORCHARD_CACHE_MEMORY_BYTES`, default 64 MiB, 0 = off. */
  blobMemoryBytes: number;
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
    entryMemoryMs:
      env.ORCHARD_CACHE_ENTRY_MEMORY_MS === '0'
        ? 0
        : ms(env.ORCHARD_CACHE_ENTRY_MEMORY_MS, 5000, 'ORCHARD_CACHE_ENTRY_MEMORY_MS'),
    blobMemoryBytes:
      env.ORCHARD_CACHE_MEMORY_BYTES === '0'
        ? 0
        : ms(env.ORCHARD_CACHE_MEMORY_BYTES, 64 * 1024 * 1024, 'ORCHARD_CACHE_MEMORY_BYTES'),
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

/** A positive integer from the environment (ms or bytes). */
function ms(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}
