import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Coordinator } from '../coord/coordinator.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../http/logger.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import {
  type SweepContext,
  sweepBlobs,
  sweepLeftovers,
  sweepOrphanArtifacts,
  sweepRegistryLinks,
} from './sweep.ts';

export interface CollectorDeps {
  db: Database;
  /** The store the proxy writes through (`GuardedBlobStore`), so writers' claims apply. */
  blobs: BlobStore;
  coord: Coordinator;
  clock: Clock;
  logger: Logger;
  registry: Registry;
}

export interface GcReport {
  dryRun: boolean;
  /** Set when another replica holds the collection lock: nothing was done. */
  skipped?: 'locked';
  startedAt: string;
  durationMs: number;
  graceSeconds: number;
  /** Registry repository links to blobs no manifest of theirs references, removed. */
  linksRemoved: number;
  /** Hosted artifacts with no tag and no upload record left (their package was deleted), removed. */
  artifactsRemoved: number;
  scanned: number;
  unreferenced: number;
  marked: number;
  deleted: number;
  deletedBytes: number;
  tempRemoved: number;
  uploadsAborted: number;
}

/** Lease on the collection lock; a run that outlives it may overlap another, which is safe, only wasteful. */
const lockLeaseMs = 30 * 60 * 1000;

/**
 * Blob garbage collection (docs/storage.md): reclaims the content-addressed
 * blobs nothing references any more (flushed cache entries, deleted registry
 * manifests, replaced local files) and what crashed writers left, online,
 * while the proxy serves. One replica at a time runs it, under the
 * coordinator lock `blob-gc`. `graceMs` protects new content: nothing
 * touched or recorded within it is deleted.
 */
export class BlobCollector {
  private readonly deps: CollectorDeps;
  private readonly graceMs: number;
  private readonly metrics: ReturnType<typeof gcMetrics>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<GcReport> | undefined;
  private last: GcReport | undefined;

  constructor(deps: CollectorDeps, opts: { graceMs: number }) {
    this.deps = deps;
    this.graceMs = opts.graceMs;
    this.metrics = gcMetrics(deps.registry);
  }

  /** The report of the last run in this process, if any. */
  get lastReport(): GcReport | undefined {
    return this.last;
  }

  /** Run now, or join the run in progress in this process. A dry run changes nothing and reports what a real one would do. */
  runOnce(opts: { dryRun?: boolean } = {}): Promise<GcReport> {
    if (this.running) return this.running;
    this.running = this.run(opts.dryRun ?? false).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Run every `intervalMs` until `stop`. The timer never keeps the process alive. */
  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.runOnce().catch((err: Error) => {
        this.deps.logger.warn('blob garbage collection failed', { error: err.message });
      });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async run(dryRun: boolean): Promise<GcReport> {
    const { db, blobs, coord, clock, logger } = this.deps;
    const now = clock.now();
    const report: GcReport = {
      dryRun,
      startedAt: new Date(now).toISOString(),
      durationMs: 0,
      graceSeconds: Math.round(this.graceMs / 1000),
      linksRemoved: 0,
      artifactsRemoved: 0,
      scanned: 0,
      unreferenced: 0,
      marked: 0,
      deleted: 0,
      deletedBytes: 0,
      tempRemoved: 0,
      uploadsAborted: 0,
    };
    const lock = await coord.tryLock('blob-gc', { leaseMs: lockLeaseMs });
    if (!lock) {
      this.metrics.runs.inc({ result: 'skipped' });
      return { ...report, skipped: 'locked' };
    }
    const t0 = performance.now();
    try {
      const ctx: SweepContext = { db, blobs, now, cutoff: now - this.graceMs, dryRun };
      report.linksRemoved = await sweepRegistryLinks(ctx);
      report.artifactsRemoved = await sweepOrphanArtifacts(ctx);
      Object.assign(report, await sweepBlobs(ctx), await sweepLeftovers(ctx));
      report.durationMs = Math.round(performance.now() - t0);
      this.metrics.runs.inc({ result: 'ok' });
      if (!dryRun) {
        this.metrics.deletedBlobs.inc(report.deleted);
        this.metrics.deletedBytes.inc(report.deletedBytes);
        this.metrics.lastSuccess.set(now / 1000);
      }
      logger.info('blob garbage collection', { ...report });
      this.last = report;
      return report;
    } catch (err) {
      this.metrics.runs.inc({ result: 'error' });
      throw err;
    } finally {
      await lock.release().catch(() => {});
    }
  }
}

function gcMetrics(registry: Registry) {
  const get = <T>(name: string, make: () => T): T =>
    (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    runs: get(
      'orchard_blob_gc_runs_total',
      () =>
        new Counter({
          name: 'orchard_blob_gc_runs_total',
          help: 'Blob garbage collection runs, by result (ok, error, skipped: another replica held the lock).',
          labelNames: ['result'] as const,
          registers: [registry],
        }),
    ),
    deletedBlobs: get(
      'orchard_blob_gc_deleted_blobs_total',
      () =>
        new Counter({
          name: 'orchard_blob_gc_deleted_blobs_total',
          help: 'Unreferenced blobs deleted by garbage collection.',
          registers: [registry],
        }),
    ),
    deletedBytes: get(
      'orchard_blob_gc_deleted_bytes_total',
      () =>
        new Counter({
          name: 'orchard_blob_gc_deleted_bytes_total',
          help: 'Bytes of the blobs deleted by garbage collection.',
          registers: [registry],
        }),
    ),
    lastSuccess: get(
      'orchard_blob_gc_last_success_timestamp_seconds',
      () =>
        new Gauge({
          name: 'orchard_blob_gc_last_success_timestamp_seconds',
          help: 'When the last successful garbage collection in this process started (Unix seconds).',
          registers: [registry],
        }),
    ),
  };
}
