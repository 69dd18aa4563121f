import type { Clock } from '../clock.ts';
import type { Coordinator } from '../coord/coordinator.ts';
import type { Logger } from '../http/logger.ts';
import { coordKeys } from './keys.ts';

export interface HealthState {
  healthy: boolean;
  /** The last failure (remote-level message: never a URL or credential). */
  lastError?: string;
  lastErrorAt?: string;
}

/**
 * Upstream health per remote, shared through the coordinator so every
 * replica's stats endpoint (polled by the operator) agrees. A network error,
 * timeout or 5xx marks the remote unhealthy; any other answer marks it healthy.
 * Writes happen only when the state changes or the last write is older than
 * `refreshMs`, so a busy remote does not write on every request.
 */
export class UpstreamHealth {
  private readonly last = new Map<string, { healthy: boolean; at: number }>();
  private readonly coord: Coordinator;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly refreshMs: number;

  constructor(opts: { coord: Coordinator; clock: Clock; logger: Logger; refreshMs?: number }) {
    this.coord = opts.coord;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.refreshMs = opts.refreshMs ?? 30_000;
  }

  record(remote: string, ok: true): void;
  record(remote: string, ok: false, error: string): void;
  record(remote: string, ok: boolean, error?: string): void {
    const now = this.clock.now();
    const prev = this.last.get(remote);
    if (ok && prev?.healthy && now - prev.at < this.refreshMs) return;
    this.last.set(remote, { healthy: ok, at: now });
    void this.write(remote, ok, error, now).catch((err) =>
      this.logger.warn('could not record upstream health', { remote, error: (err as Error).message }),
    );
  }

  async get(remote: string): Promise<HealthState> {
    const raw = await this.coord.get(coordKeys.health(remote));
    if (!raw) return { healthy: true };
    try {
      return JSON.parse(raw) as HealthState;
    } catch {
      return { healthy: true };
    }
  }

  private async write(remote: string, ok: boolean, error: string | undefined, now: number): Promise<void> {
    const key = coordKeys.health(remote);
    const prev = ok ? await this.get(remote) : undefined;
    const state: HealthState = ok
      ? { healthy: true, lastError: prev?.lastError, lastErrorAt: prev?.lastErrorAt }
      : { healthy: false, lastError: error, lastErrorAt: new Date(now).toISOString() };
    await this.coord.set(key, JSON.stringify(state));
  }
}
