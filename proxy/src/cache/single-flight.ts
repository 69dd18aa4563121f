import type { Coordinator, Lock } from '../coord/coordinator.ts';
import { ApiError, type ErrorCode, errorCodes } from '../http/errors.ts';
import type { Logger } from '../http/logger.ts';
import type { FillHandle, FillOutcome, FillStart } from './types.ts';

export interface FlightNames {
  /** In-process key. */
  key: string;
  lockName: string;
  outcomeKey: string;
  channel: string;
}

export interface SingleFlightOptions {
  coord: Coordinator;
  logger: Logger;
  /** Fill lock lease; the leader renews it every third of it. */
  leaseMs: number;
  /** Followers on other replicas poll between these bounds (pub/sub is only a hint: at most once). */
  pollMinMs?: number;
  pollMaxMs?: number;
}

/**
 * One fill per key across the cluster.
 *
 * In this process, requests for a key share one Flight. The flight either
 * leads (it took the coordinator lock `cache:fill:…`, and `lead` fetches) or
 * follows another replica: it waits for that replica's outcome, learned from
 * the fill channel and, because pub/sub may drop messages, by polling the
 * outcome key with backoff. While waiting it keeps trying the lock, so when
 * the leader dies its lease expires and exactly one follower takes over.
 *
 * Joining is synchronous: `join` returns a Flight that stays alive (its spool
 * open) until `leave` is called, so a late joiner can never find it disposed.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Flight>();
  private readonly opts: Required<SingleFlightOptions>;

  constructor(opts: SingleFlightOptions) {
    this.opts = { pollMinMs: 25, pollMaxMs: 1000, ...opts };
  }

  /**
   * Join the flight for `names.key`, starting it when there is none. `lead` is
   * called (at most once per flight) when this process wins the lock. The
   * caller MUST call `flight.leave()` when it no longer needs the flight.
   */
  join(names: FlightNames, lead: (lock: Lock) => FillHandle): { flight: Flight; joined: boolean } {
    const existing = this.flights.get(names.key);
    if (existing && !existing.failed) {
      existing.enter();
      return { flight: existing, joined: true };
    }
    // A failed fill still finishing (publishing its outcome, releasing the lock) is not joined:
    // a retry gets a fresh fill, started once the failed one is completely over.
    const after = existing?.completion ?? Promise.resolve();
    const flight = new Flight();
    flight.enter();
    this.flights.set(names.key, flight);
    flight.completion = after
      .then(() => this.run(flight, names, lead))
      .finally(() => {
        if (this.flights.get(names.key) === flight) this.flights.delete(names.key);
        flight.finish();
      });
    return { flight, joined: false };
  }

  /** Resolves when every fill in flight now (in this process) is over: committed or given up. */
  async idle(): Promise<void> {
    while (this.flights.size > 0) await Promise.all([...this.flights.values()].map((f) => f.completion));
  }

  /** Fills in flight in this process. */
  get size(): number {
    return this.flights.size;
  }

  /** Abort every fill this process leads (shutdown). */
  abortAll(): void {
    for (const f of this.flights.values()) f.abort();
  }

  private async run(flight: Flight, names: FlightNames, lead: (lock: Lock) => FillHandle): Promise<void> {
    const { coord } = this.opts;
    try {
      const snapshot = await coord.get(names.outcomeKey);
      let lock = await coord.tryLock(names.lockName, { leaseMs: this.opts.leaseMs });
      if (lock) {
        // A leader elsewhere may have finished between our snapshot and the lock.
        const settled = await this.settledSince(names, snapshot);
        if (settled) {
          await lock.release();
          return flight.resolve(settled);
        }
      } else {
        const waited = await this.follow(names, snapshot);
        if (!('token' in waited)) return flight.resolve(waited);
        lock = waited;
      }
      const handle = lead(lock);
      flight.lead(handle);
      flight.resolve(await handle.started);
      await handle.done;
    } catch (err) {
      this.opts.logger.error('fill coordination failed', { key: names.lockName, error: err as Error });
      flight.resolve({ kind: 'error', error: new ApiError('INTERNAL', undefined, { cause: err }) });
    }
  }

  private async settledSince(
    names: FlightNames,
    snapshot: string | undefined,
  ): Promise<FillStart | undefined> {
    const now = await this.opts.coord.get(names.outcomeKey);
    return now !== snapshot ? outcomeToStart(now) : undefined;
  }

  /**
   * Wait for another replica's fill. Resolves with its outcome, or with the
   * lock when the leader's lease lapsed without an outcome (it died) and this
   * replica took over.
   */
  private async follow(names: FlightNames, snapshot: string | undefined): Promise<FillStart | Lock> {
    const { coord } = this.opts;
    let wake: () => void = () => {};
    const unsubscribe = await coord.subscribe(names.channel, () => wake()).catch(() => async () => {});
    try {
      for (let delay = this.opts.pollMinMs; ; delay = Math.min(delay * 2, this.opts.pollMaxMs)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        const current = await coord.get(names.outcomeKey);
        if (current !== snapshot) {
          const start = outcomeToStart(current);
          if (start) return start;
          snapshot = current;
        }
        const lock = await coord.tryLock(names.lockName, { leaseMs: this.opts.leaseMs });
        if (!lock) continue;
        // The leader may have finished between our last look and the lock.
        const settled = await this.settledSince(names, snapshot);
        if (!settled) {
          this.opts.logger.info('fill lock taken over', { key: names.lockName, token: lock.token });
          return lock;
        }
        await lock.release();
        return settled;
      }
    } finally {
      await unsubscribe().catch(() => {});
    }
  }
}

/** A follower's view of an outcome; `undefined` when it should keep waiting (aborted, unreadable). */
export function outcomeToStart(raw: string | undefined): FillStart | undefined {
  if (!raw) return undefined;
  let o: FillOutcome;
  try {
    o = JSON.parse(raw) as FillOutcome;
  } catch {
    return undefined;
  }
  switch (o.kind) {
    case 'stored':
      return { kind: 'stored', result: o.stale ? 'stale' : 'miss' };
    case 'not-found':
      return { kind: 'not-found' };
    case 'quarantined':
      return { kind: 'quarantined', publishedAt: new Date(o.publishedAt ?? 0) };
    case 'error': {
      const code: ErrorCode = o.code && o.code in errorCodes ? o.code : 'UPSTREAM_ERROR';
      return { kind: 'error', error: new ApiError(code, o.message) };
    }
    default:
      return undefined;
  }
}

/**
 * One fill as the requests of this process share it. `started` settles once;
 * the flight is disposed (its spool reference dropped) when the fill is over
 * AND every joiner has left.
 */
export class Flight {
  readonly started: Promise<FillStart>;
  /** Settles when the flight is over (never rejects). */
  completion: Promise<void> = Promise.resolve();
  private resolveStarted!: (s: FillStart) => void;
  private start?: FillStart;
  private handle?: FillHandle;
  private joiners = 0;
  private over = false;
  private disposed = false;

  constructor() {
    this.started = new Promise((resolve) => {
      this.resolveStarted = resolve;
    });
  }

  /** Whether this process fetches from the upstream for this flight. */
  get isLeader(): boolean {
    return this.handle !== undefined;
  }

  enter(): void {
    this.joiners++;
  }

  leave(): void {
    this.joiners--;
    this.maybeDispose();
  }

  resolve(start: FillStart): void {
    this.start ??= start;
    this.resolveStarted(start);
  }

  /** The fill failed (an error, or its body broke mid-stream): new requests must not join it. */
  get failed(): boolean {
    const s = this.start;
    return s !== undefined && (s.kind === 'error' || (s.kind === 'stream' && s.spool.state === 'failed'));
  }

  lead(handle: FillHandle): void {
    this.handle = handle;
  }

  finish(): void {
    this.over = true;
    this.maybeDispose();
  }

  abort(): void {
    this.handle?.abort();
  }

  private maybeDispose(): void {
    if (this.disposed || !this.over || this.joiners > 0) return;
    this.disposed = true;
    this.handle?.dispose();
  }
}
