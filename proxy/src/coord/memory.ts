import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../clock.ts';
import { type Logger, silentLogger } from '../http/logger.ts';
import type { Coordinator, Lock } from './coordinator.ts';
import { checkLease, checkTtl, firstFencingToken } from './validate.ts';

interface Entry {
  value: string;
  /** Clock time at which the entry is gone; undefined = never. */
  expiresAt?: number;
}

interface Holder {
  id: string;
  expiresAt: number;
}

type Handler = (message: string) => void;

/**
 * The shared state behind MemoryCoordinators: what Redis is to RedisCoordinators.
 * Several coordinators on one hub behave like replicas sharing one Redis, which
 * is how tests model a cluster in one process. Time comes from the injected
 * clock, so tests can expire keys and leases by moving a ManualClock.
 */
export class MemoryHub {
  readonly clock: Clock;
  readonly keys = new Map<string, Entry>();
  readonly locks = new Map<string, Holder>();
  readonly channels = new Map<string, Set<Handler>>();
  private fence: number;
  private writes = 0;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
    this.fence = firstFencingToken(this.clock.now()) - 1;
  }

  nextFencingToken(): number {
    this.fence++;
    return this.fence;
  }

  /** The live entry under `key`, dropping it if it has expired. */
  live(key: string): Entry | undefined {
    const e = this.keys.get(key);
    if (e?.expiresAt !== undefined && e.expiresAt <= this.clock.now()) {
      this.keys.delete(key);
      return undefined;
    }
    return e;
  }

  /** Called on every write; now and then drops expired entries nobody reads any more. */
  noteWrite(): void {
    if (++this.writes % 1024 !== 0) return;
    const now = this.clock.now();
    for (const [k, e] of this.keys) if (e.expiresAt !== undefined && e.expiresAt <= now) this.keys.delete(k);
    for (const [n, h] of this.locks) if (h.expiresAt <= now) this.locks.delete(n);
  }
}

/**
 * In-process Coordinator: the embedded default, and the fast one for unit
 * tests. Without a `hub` it gets a private one (a single replica).
 */
export class MemoryCoordinator implements Coordinator {
  readonly name = 'memory';
  private readonly hub: MemoryHub;
  private readonly logger: Logger;
  private readonly mine = new Set<{ channel: string; handler: Handler }>();
  private closed = false;

  constructor(opts: { hub?: MemoryHub; clock?: Clock; logger?: Logger } = {}) {
    this.hub = opts.hub ?? new MemoryHub({ clock: opts.clock });
    this.logger = opts.logger ?? silentLogger;
  }

  async get(key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.hub.live(key)?.value;
  }

  async set(key: string, value: string, opts?: { ttlMs?: number }): Promise<void> {
    this.assertOpen();
    this.hub.keys.set(key, { value, expiresAt: this.expiry(opts?.ttlMs) });
    this.hub.noteWrite();
  }

  async setIfAbsent(key: string, value: string, opts?: { ttlMs?: number }): Promise<boolean> {
    this.assertOpen();
    const expiresAt = this.expiry(opts?.ttlMs);
    if (this.hub.live(key)) return false;
    this.hub.keys.set(key, { value, expiresAt });
    this.hub.noteWrite();
    return true;
  }

  async ttl(key: string): Promise<number | undefined> {
    this.assertOpen();
    const e = this.hub.live(key);
    if (!e) return undefined;
    return e.expiresAt === undefined ? Number.POSITIVE_INFINITY : e.expiresAt - this.hub.clock.now();
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    this.hub.keys.delete(key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.assertOpen();
    let n = 0;
    for (const key of [...this.hub.keys.keys()]) {
      if (key.startsWith(prefix) && this.hub.live(key)) {
        this.hub.keys.delete(key);
        n++;
      }
    }
    return n;
  }

  async tryLock(name: string, opts: { leaseMs: number }): Promise<Lock | undefined> {
    this.assertOpen();
    const leaseMs = checkLease(opts.leaseMs);
    const hub = this.hub;
    const current = hub.locks.get(name);
    if (current && current.expiresAt > hub.clock.now()) return undefined;
    const id = randomUUID();
    hub.locks.set(name, { id, expiresAt: hub.clock.now() + leaseMs });
    hub.noteWrite();
    const token = hub.nextFencingToken();
    const held = () => {
      const h = hub.locks.get(name);
      return h?.id === id ? h : undefined;
    };
    return {
      name,
      token,
      renew: async () => {
        const h = held();
        if (!h || h.expiresAt <= hub.clock.now()) return false;
        h.expiresAt = hub.clock.now() + leaseMs;
        return true;
      },
      release: async () => {
        if (held()) hub.locks.delete(name);
      },
    };
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen();
    for (const handler of this.hub.channels.get(channel) ?? []) {
      // Delivered later, like a network hop, so a throwing subscriber never fails the publisher.
      queueMicrotask(() => {
        try {
          handler(message);
        } catch (err) {
          this.logger.error('coordinator subscriber threw', { channel, error: err });
        }
      });
    }
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    const handler: Handler = (m) => onMessage(m);
    const entry = { channel, handler };
    let set = this.hub.channels.get(channel);
    if (!set) {
      set = new Set();
      this.hub.channels.set(channel, set);
    }
    set.add(handler);
    this.mine.add(entry);
    return async () => this.unsubscribe(entry);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const entry of [...this.mine]) this.unsubscribe(entry);
    this.closed = true;
  }

  private unsubscribe(entry: { channel: string; handler: Handler }): void {
    this.mine.delete(entry);
    const set = this.hub.channels.get(entry.channel);
    set?.delete(entry.handler);
    if (set?.size === 0) this.hub.channels.delete(entry.channel);
  }

  private expiry(ttlMs: number | undefined): number | undefined {
    const ttl = checkTtl(ttlMs);
    return ttl === 0 ? undefined : this.hub.clock.now() + ttl;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('coordinator closed');
  }
}
