/**
 * A keyed work queue in the manner of client-go's workqueue:
 *
 * - De-duplication: a key added while it is waiting is queued once.
 * - Never concurrent per key: a key added while it is being processed is
 *   marked dirty and queued again when that processing ends.
 * - Retries: `process` throwing a retryable error re-adds the key after an
 *   exponential backoff (base * 2^failures, capped); success or a terminal
 *   error resets the key's failure count.
 * - Delays: `addAfter` schedules a key; the earliest schedule wins.
 *
 * The reconcile contract (what `process` returns or throws) is in
 * reconcile/contract.ts. `pause()` holds processing (non-leaders); queued
 * keys are kept. All methods are safe to call at any time.
 */
import { isTerminal, type ReconcileResult } from '../reconcile/contract.ts';
import { withDefaults } from '../util/defaults.ts';

export interface WorkQueueOptions {
  process(key: string): Promise<ReconcileResult>;
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called with the outcome of each processing, for metrics and logs. */
  onResult?(key: string, outcome: 'success' | 'requeue' | 'error' | 'terminal', err?: unknown): void;
  onDepthChange?(depth: number): void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly opts: Required<Omit<WorkQueueOptions, 'onResult' | 'onDepthChange'>> & WorkQueueOptions;
  private running = false;
  private stopped = false;

  constructor(opts: WorkQueueOptions) {
    this.opts = withDefaults({ concurrency: 2, baseDelayMs: 200, maxDelayMs: 60_000 }, opts);
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.depthChanged();
    this.pump();
  }

  /** Add `key` after `ms`; an earlier pending schedule for the key is kept. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Keys waiting to be processed (not counting those in progress or delayed). */
  depth(): number {
    return this.queue.length;
  }

  /** Start (or resume) handing keys to `process`. */
  resume(): void {
    this.running = true;
    this.pump();
  }

  /** Stop handing out keys; in-flight processing finishes. Resolves when it has. */
  async pause(): Promise<void> {
    this.running = false;
    await Promise.allSettled([...this.inflight]);
  }

  /** Pause for good and drop all pending work and timers. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    await this.pause();
  }

  private pump(): void {
    while (this.running && this.processing.size < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      this.depthChanged();
      const p = this.run(key).finally(() => {
        this.inflight.delete(p);
        this.processing.delete(key);
        if (this.dirty.delete(key)) this.add(key);
        this.pump();
      });
      this.inflight.add(p);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const result = await this.opts.process(key);
      this.failures.delete(key);
      if (result.requeueAfterMs !== undefined) {
        this.addAfter(key, result.requeueAfterMs);
        this.opts.onResult?.(key, 'requeue');
      } else {
        this.opts.onResult?.(key, 'success');
      }
    } catch (err) {
      if (isTerminal(err)) {
        this.failures.delete(key);
        this.opts.onResult?.(key, 'terminal', err);
        return;
      }
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      this.addAfter(key, this.backoff(n));
      this.opts.onResult?.(key, 'error', err);
    }
  }

  private backoff(failures: number): number {
    return Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (failures - 1));
  }

  private depthChanged(): void {
    this.opts.onDepthChange?.(this.queue.length);
  }
}
