import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../http/logger.ts';
import type { Coordinator, Lock } from './coordinator.ts';
import { acquireScript, releaseScript, renewScript } from './redis-scripts.ts';
import { checkLease, checkTtl } from './validate.ts';

export interface RedisCoordinatorOptions {
  /** `redis://[user:password@]host:port[/db]`; never logged. */
  url: string;
  logger: Logger;
  /** Prepended to every key and channel, so deployments and test runs can share one Redis. Default `orchard:`. */
  keyPrefix?: string;
  /** A command not answered within this time rejects. Default 5000. */
  commandTimeoutMs?: number;
}

interface ScriptCommands {
  orchardAcquire(lockKey: string, fenceKey: string, holder: string, leaseMs: number): Promise<number>;
  orchardRenew(lockKey: string, holder: string, leaseMs: number): Promise<number>;
  orchardRelease(lockKey: string, holder: string): Promise<number>;
}

type Handler = (message: string) => void;

/**
 * Coordinator on one Redis (standalone or behind Sentinel; not Redis Cluster,
 * since lock scripts touch two keys). Key layout, under the prefix:
 * `k:<key>` for TTL keys, `lock:<name>` for locks (value `<holder>:<token>`),
 * `fence` for the fencing counter, channel `ch:<channel>` for notifications.
 * TTLs and leases run on Redis's clock. Pub/sub uses a second connection,
 * opened on first subscribe; ioredis resubscribes after a reconnect, but
 * messages published while disconnected are lost (the contract says at most once).
 */
export class RedisCoordinator implements Coordinator {
  readonly name = 'redis';
  private readonly client: Redis & ScriptCommands;
  private subscriber: Redis | undefined;
  private readonly channels = new Map<string, { handlers: Set<Handler>; ready: Promise<unknown> }>();
  private readonly prefix: string;
  private readonly logger: Logger;
  private closed = false;

  constructor(opts: RedisCoordinatorOptions) {
    this.prefix = opts.keyPrefix ?? 'orchard:';
    this.logger = opts.logger;
    const client = new Redis(opts.url, {
      commandTimeout: opts.commandTimeoutMs ?? 5_000,
      // Fail fast while Redis is away: losing coordination costs extra fetches, stalling costs requests.
      maxRetriesPerRequest: 2,
      connectionName: 'orchard',
    });
    client.defineCommand('orchardAcquire', { numberOfKeys: 2, lua: acquireScript });
    client.defineCommand('orchardRenew', { numberOfKeys: 1, lua: renewScript });
    client.defineCommand('orchardRelease', { numberOfKeys: 1, lua: releaseScript });
    this.client = client as Redis & ScriptCommands;
    watchHealth(client, this.logger, 'commands');
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(this.key(key))) ?? undefined;
  }

  async set(key: string, value: string, opts?: { ttlMs?: number }): Promise<void> {
    const ttl = checkTtl(opts?.ttlMs);
    if (ttl === 0) await this.client.set(this.key(key), value);
    else await this.client.set(this.key(key), value, 'PX', ttl);
  }

  async setIfAbsent(key: string, value: string, opts?: { ttlMs?: number }): Promise<boolean> {
    const ttl = checkTtl(opts?.ttlMs);
    const r =
      ttl === 0
        ? await this.client.set(this.key(key), value, 'NX')
        : await this.client.set(this.key(key), value, 'PX', ttl, 'NX');
    return r === 'OK';
  }

  async ttl(key: string): Promise<number | undefined> {
    const ms = await this.client.pttl(this.key(key));
    if (ms === -2) return undefined;
    return ms === -1 ? Number.POSITIVE_INFINITY : ms;
  }

  async delete(key: string): Promise<void> {
    await this.client.unlink(this.key(key));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const stream = this.client.scanStream({ match: `${escapeGlob(this.key(prefix))}*`, count: 1000 });
    let deleted = 0;
    for await (const batch of stream as AsyncIterable<string[]>) {
      if (batch.length > 0) deleted += await this.client.unlink(...batch);
    }
    return deleted;
  }

  async tryLock(name: string, opts: { leaseMs: number }): Promise<Lock | undefined> {
    const leaseMs = checkLease(opts.leaseMs);
    const lockKey = `${this.prefix}lock:${name}`;
    const id = randomUUID();
    const token = Number(await this.client.orchardAcquire(lockKey, `${this.prefix}fence`, id, leaseMs));
    if (token === 0) return undefined;
    const holder = `${id}:${token}`;
    return {
      name,
      token,
      renew: async () => (await this.client.orchardRenew(lockKey, holder, leaseMs)) === 1,
      release: async () => {
        await this.client.orchardRelease(lockKey, holder);
      },
    };
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.channel(channel), message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('coordinator closed');
    const sub = this.subscriberConnection();
    const full = this.channel(channel);
    const handler: Handler = (m) => onMessage(m);
    let entry = this.channels.get(full);
    if (!entry) {
      // Commands on one connection run in order, so a SUBSCRIBE issued after a pending UNSUBSCRIBE wins.
      entry = { handlers: new Set(), ready: sub.subscribe(full) };
      this.channels.set(full, entry);
    }
    entry.handlers.add(handler);
    try {
      await entry.ready;
    } catch (err) {
      entry.handlers.delete(handler);
      if (entry.handlers.size === 0 && this.channels.get(full) === entry) this.channels.delete(full);
      throw err;
    }
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      const current = this.channels.get(full);
      if (!current?.handlers.delete(handler) || current.handlers.size > 0) return;
      this.channels.delete(full);
      if (!this.closed) await sub.unsubscribe(full);
    };
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await Promise.all([quit(this.client), this.subscriber ? quit(this.subscriber) : undefined]);
  }

  private subscriberConnection(): Redis {
    if (!this.subscriber) {
      // No command timeout here: a subscribed connection legitimately sits idle.
      const sub = this.client.duplicate({ commandTimeout: undefined });
      sub.on('message', (channel: string, message: string) => this.deliver(channel, message));
      watchHealth(sub, this.logger, 'subscriber');
      this.subscriber = sub;
    }
    return this.subscriber;
  }

  private deliver(channel: string, message: string): void {
    for (const handler of this.channels.get(channel)?.handlers ?? []) {
      try {
        handler(message);
      } catch (err) {
        this.logger.error('coordinator subscriber threw', {
          channel: channel.slice(this.prefix.length + 3),
          error: err,
        });
      }
    }
  }

  private key(key: string): string {
    return `${this.prefix}k:${key}`;
  }

  private channel(channel: string): string {
    return `${this.prefix}ch:${channel}`;
  }
}

/** Log connection trouble once per outage, not on every retry; ioredis emits an error per attempt. */
function watchHealth(conn: Redis, logger: Logger, role: string): void {
  let healthy = true;
  conn.on('error', (err: Error) => {
    if (!healthy) return;
    healthy = false;
    logger.warn('redis connection lost; retrying', { role, error: err.message });
  });
  conn.on('ready', () => {
    if (healthy) return;
    healthy = true;
    logger.info('redis connection restored', { role });
  });
}

/** QUIT politely, but never wait long for an unreachable server. */
async function quit(conn: Redis): Promise<void> {
  const timer = setTimeout(() => conn.disconnect(), 1000);
  try {
    await conn.quit();
  } catch {
    conn.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/** Escape Redis glob metacharacters so a prefix matches literally. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
