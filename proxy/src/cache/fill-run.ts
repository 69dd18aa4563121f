import type { Clock } from '../clock.ts';
import type { Credentials, RemoteConfig } from '../config/index.ts';
import type { Coordinator, Lock } from '../coord/coordinator.ts';
import type { ArtifactHint, Format } from '../formats/index.ts';
import { ApiError } from '../http/errors.ts';
import type { Logger } from '../http/logger.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { readAtMost } from '../upstream/body.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { CacheEntry, CacheIndex } from './entries.ts';
import type { UpstreamHealth } from './health.ts';
import type { HintStore } from './hints.ts';
import { coordKeys } from './keys.ts';
import type { CacheMetrics } from './metrics.ts';
import type { FillOutcome, FillStart } from './types.ts';

// The shared context of one cache fill and the small helpers its steps use.

export interface FillDeps {
  blobs: BlobStore;
  index: CacheIndex;
  hints: HintStore;
  coord: Coordinator;
  upstream: Upstream;
  metrics: CacheMetrics;
  health: UpstreamHealth;
  logger: Logger;
  clock: Clock;
  spoolDir: string;
  leaseMs: number;
  credentials(remote: string): Credentials | undefined;
}

export interface FillJob {
  remote: RemoteConfig;
  format: Format;
  path: string;
  mutable: boolean;
  /** Revalidate `previous` with a conditional request instead of fetching unconditionally. */
  conditional: boolean;
  /** The expired entry being refreshed: the stale copy to fall back on. */
  previous?: CacheEntry;
  hint?: ArtifactHint;
  /** Quarantine applies (immutable, enabled, not exempt). */
  quarantined: boolean;
  proxyBase: string;
  /** Whether a fresh entry exists now (checked once the lock is held). */
  alreadyFresh(): Promise<boolean>;
}

/** Everything a fill step needs, bundled so helpers stay small. */
export interface FillRun {
  deps: FillDeps;
  job: FillJob;
  lock: Lock;
  labels: { remote: string; package: string };
  startedAt: number;
  signal: AbortSignal;
  resolve(start: FillStart): void;
}

/** Start the mutable TTL (nothing to do for immutable content: its TTL runs from `fetchedAt`). */
export async function setFresh(deps: FillDeps, job: FillJob, digest: string): Promise<void> {
  const ttl = job.remote.cache.mutableTtl;
  if (!job.mutable || ttl <= 0) return;
  await deps.coord.set(coordKeys.fresh(job.remote.name, job.path), digest, { ttlMs: ttl * 1000 });
}

/** Read a whole body into memory, failing (and destroying it) beyond `max` bytes. */
export async function readLimited(
  body: AsyncIterable<unknown> & { destroy(): void },
  max: number,
): Promise<Buffer> {
  const whole = await readAtMost(body, max);
  if (!whole) throw new ApiError('UPSTREAM_ERROR', `the upstream document is larger than ${max} bytes`);
  return whole;
}

export function parseHttpDate(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * The upstream failed before any byte was streamed. With a previous copy and a
 * failure class the remote lists in `staleOnError`, keep serving the copy and
 * refresh its TTL (the seed's stale-on-upstream-error); otherwise report it.
 */
export async function fail(
  run: FillRun,
  staleClass: 'network' | '429' | '5xx' | undefined,
  error: ApiError,
  logMessage: string,
): Promise<Omit<FillOutcome, 'seq'>> {
  const { deps, job } = run;
  if (job.previous && staleClass && job.remote.staleOnError.includes(staleClass)) {
    await refreshEntry(run, job.previous);
    deps.logger.warn('upstream failed; serving the stale copy', {
      remote: job.remote.name,
      path: job.path,
      error: logMessage,
    });
    run.resolve({ kind: 'stored', result: 'stale' });
    return { kind: 'stored', stale: true };
  }
  run.resolve({ kind: 'error', error });
  return { kind: 'error', code: error.code, message: error.message };
}

/** Make `entry` fresh again without new content (304, or stale-on-error). */
export async function refreshEntry(run: FillRun, entry: CacheEntry): Promise<void> {
  const { deps, job, lock } = run;
  await deps.index.touch(entry.remote, entry.path, new Date(run.startedAt), lock.token);
  await setFresh(deps, job, entry.digest);
}

/** Read and drop a small body (an error page), keeping the connection reusable. */
export function drain(body: { on(e: 'error', f: () => void): unknown; resume(): void }): void {
  body.on('error', () => {});
  body.resume();
}

/** Throw away a body we will not read, without an unhandled error if it fails meanwhile. */
export function discard(body: { on(e: 'error', f: () => void): unknown; destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}
