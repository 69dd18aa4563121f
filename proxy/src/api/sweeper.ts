import { abortSessions, sweepTempObjects } from './cleanup.ts';
import type { HostedDeps } from './context.ts';
import { expireSessions } from './repo/sessions.ts';

/** The database's own "closed" error: the proxy that owns this timer has shut down. */
export function isShutDown(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('database closed');
}

export interface SweepResult {
  expired: number;
  tempObjectsRemoved: number;
}

/**
 * Expires abandoned resumable uploads (pending past `expires_at`, or stuck
 * completing on a replica that died) and aborts their multipart sessions,
 * then deletes temporary upload objects older than `tempObjectTtlMs`. Time
 * comes from the injected clock. Safe on many replicas at once: sessions are
 * claimed with SKIP LOCKED, and deleting a temp object twice is harmless.
 */
export class UploadSweeper {
  private readonly deps: HostedDeps;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;

  constructor(deps: HostedDeps) {
    this.deps = deps;
  }

  async sweepOnce(): Promise<SweepResult> {
    this.running ??= this.sweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Sweep every `intervalMs` until `stop`. The timer never keeps the process alive. */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.sweepOnce().catch((err) => {
        // Route modules have no close hook yet: a closed database means the proxy shut down.
        if (isShutDown(err)) this.stop();
        else this.deps.logger.warn('upload sweep failed', { error: (err as Error).message });
      });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether the periodic timer is running. */
  get active(): boolean {
    return this.timer !== undefined;
  }

  private async sweep(): Promise<SweepResult> {
    const now = this.deps.clock.now();
    let expired = 0;
    for (;;) {
      const batch = await expireSessions(this.deps.db, new Date(now));
      if (batch.length === 0) break;
      await abortSessions(this.deps, batch);
      expired += batch.length;
    }
    const tempObjectsRemoved = await sweepTempObjects(this.deps, now, this.deps.limits.tempObjectTtlMs);
    if (expired > 0 || tempObjectsRemoved > 0) {
      this.deps.logger.info('upload sweep', {
        sessions_expired: expired,
        temp_objects_removed: tempObjectsRemoved,
      });
    }
    return { expired, tempObjectsRemoved };
  }
}
