/**
 * Coordinator is the shared, short-lived state between proxy replicas: TTL
 * keys, leased locks with fencing tokens, and a notification channel. It holds
 * nothing that cannot be lost: losing it costs extra upstream fetches, never
 * correctness. Every method is safe to call concurrently.
 *
 * Keys, lock names and channels are three separate namespaces: `deletePrefix`
 * never touches a lock. Methods reject when the backend is unreachable
 * (callers should then behave as if the key were absent or the lock lost), and
 * reject with RangeError on a negative TTL or a non-positive lease. See
 * docs/database.md for the Redis key layout.
 */
export interface Coordinator {
  /** `memory` or `redis`. */
  readonly name: string;

  /** Value of `key`, or `undefined` when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Set `key`; `ttlMs` omitted or 0 means no expiry. */
  set(key: string, value: string, opts?: { ttlMs?: number }): Promise<void>;
  /** Set only when absent. Returns whether this call set it. */
  setIfAbsent(key: string, value: string, opts?: { ttlMs?: number }): Promise<boolean>;
  /** Remaining TTL in ms; `undefined` when the key is absent, `Infinity` when it has no expiry. */
  ttl(key: string): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  /** Delete every key starting with `prefix` (a literal string, not a glob). Returns how many were deleted. */
  deletePrefix(prefix: string): Promise<number>;

  /**
   * Try once to take the lock `name` for `leaseMs`. Returns `undefined` when
   * another holder has it. The returned lock's `token` is a fencing token: it
   * strictly increases with every successful acquisition of the same name,
   * across all replicas, so a store can reject writes from a stale holder.
   */
  tryLock(name: string, opts: { leaseMs: number }): Promise<Lock | undefined>;

  /** Deliver `message` to every subscriber of `channel` on every replica (at most once, no persistence). */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Subscribe; resolves once the subscription is active, so a message
   * published after it resolves is delivered. The returned function
   * unsubscribes (idempotent). A handler that throws is logged and does not
   * affect other subscribers. Messages published while a replica is
   * disconnected from the backend are lost to it.
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;

  /** Health probe for `/ready`. Throws when unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Lock {
  readonly name: string;
  readonly token: number;
  /** Extend the lease by `leaseMs` from now. Returns false when the lease was already lost (expired and possibly re-taken). */
  renew(): Promise<boolean>;
  /** Release if still held by this holder; releasing a lost lock is a no-op (it never frees a newer holder's lock). */
  release(): Promise<void>;
}
