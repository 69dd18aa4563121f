import type { Clock } from '../clock.ts';
import type { CacheEntry } from './entries.ts';

/**
 * A small in-process memory of index rows, so a warm hit costs no database
 * round trip. Rows stay for `ttlMs` (default 5 s) and the map holds at most
 * `maxEntries` (least recently used go first). This replica forgets a row as
 * soon as it changes it (commit, revalidation, forget, flush); changes made
 * by other replicas show here within `ttlMs` (flushes are also broadcast, see
 * `CacheEngine`). Freshness of mutable entries is still checked in the
 * coordinator on every request. `ttlMs: 0` turns the memory off.
 */
export class EntryCache {
  private readonly rows = new Map<string, { entry: CacheEntry; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Clock;

  constructor(opts: { clock: Clock; ttlMs?: number; maxEntries?: number }) {
    this.clock = opts.clock;
    this.ttlMs = opts.ttlMs ?? 5000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  get(remote: string, path: string): CacheEntry | undefined {
    const key = `${remote}\u0000${path}`;
    const hit = this.rows.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.clock.now()) {
      this.rows.delete(key);
      return undefined;
    }
    // Re-insert: Map order is the LRU order.
    this.rows.delete(key);
    this.rows.set(key, hit);
    return hit.entry;
  }

  set(entry: CacheEntry): void {
    if (this.ttlMs <= 0) return;
    const key = `${entry.remote}\u0000${entry.path}`;
    this.rows.delete(key);
    this.rows.set(key, { entry, until: this.clock.now() + this.ttlMs });
    if (this.rows.size > this.maxEntries) this.rows.delete(this.rows.keys().next().value!);
  }

  delete(remote: string, path: string): void {
    this.rows.delete(`${remote}\u0000${path}`);
  }

  /** Forget every row (of one remote). */
  clear(remote?: string): void {
    if (remote === undefined) this.rows.clear();
    else for (const key of this.rows.keys()) if (key.startsWith(`${remote}\u0000`)) this.rows.delete(key);
  }
}
