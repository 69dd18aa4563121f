import type { Database } from '../db/database.ts';
import type { EntryCache } from './entry-cache.ts';

/** One row of the cache index: what (remote, path) resolved to when it was fetched. */
export interface CacheEntry {
  remote: string;
  path: string;
  /** sha256 hex of the stored bytes (after any index rewrite); the blob is `blobKey(digest)`. */
  digest: string;
  size: number;
  contentType?: string;
  /** Upstream validators, verbatim, for conditional revalidation. */
  etag?: string;
  lastModified?: string;
  /** Upstream URL without userinfo or query. */
  upstreamUrl?: string;
  /** Upstream headers the format keeps (lower-case names). */
  headers: Record<string, string>;
  mutable: boolean;
  publishedAt?: Date;
  /** Start of the fill (or revalidation) that produced this row. */
  fetchedAt: Date;
}

interface Row extends Record<string, unknown> {
  remote: string;
  path: string;
  digest: string;
  size: number;
  content_type: string | null;
  etag: string | null;
  last_modified: string | null;
  upstream_url: string | null;
  headers: Record<string, string> | null;
  mutable: boolean;
  published_at: Date | null;
  fetched_at: Date;
}

const columns =
  'remote, path, digest, size, content_type, etag, last_modified, upstream_url, headers, mutable, published_at, fetched_at';

/**
 * The durable cache index (`cache_entries`). Writes carry the fill's fencing
 * token: a row is only replaced by a write with a larger token, so a leader
 * that lost its lease and commits late cannot overwrite its successor's
 * entry. Reads may be answered from a short-lived in-process memory (see
 * EntryCache) unless `fresh` is asked for; every write here forgets the rows
 * it touches. Every method is safe to call concurrently.
 */
export class CacheIndex {
  private readonly db: Database;
  private readonly memory?: EntryCache;

  constructor(db: Database, memory?: EntryCache) {
    this.db = db;
    this.memory = memory;
  }

  /** The entry, or `undefined` when (remote, path) is not cached. `fresh`: ask the database, not the memory. */
  async get(remote: string, path: string, opts: { fresh?: boolean } = {}): Promise<CacheEntry | undefined> {
    if (!opts.fresh) {
      const remembered = this.memory?.get(remote, path);
      if (remembered) return remembered;
    }
    const { rows } = await this.db.query<Row>(
      `SELECT ${columns} FROM cache_entries WHERE remote = $1 AND path = $2`,
      [remote, path],
    );
    const entry = rows[0] ? fromRow(rows[0]) : undefined;
    if (entry) this.memory?.set(entry);
    else this.memory?.delete(remote, path);
    return entry;
  }

  /** Forget remembered rows (of one remote), e.g. after another replica flushed. */
  forgetRemembered(remote?: string): void {
    this.memory?.clear(remote);
  }

  /** Insert or replace. Returns false when a write with a newer fencing token got there first. */
  async put(e: CacheEntry, token: number): Promise<boolean> {
    this.memory?.delete(e.remote, e.path);
    const { rowCount } = await this.db.query(
      `INSERT INTO cache_entries (${columns}, fill_token)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13)
       ON CONFLICT (remote, path) DO UPDATE SET
         digest = EXCLUDED.digest, size = EXCLUDED.size, content_type = EXCLUDED.content_type,
         etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, upstream_url = EXCLUDED.upstream_url,
         headers = EXCLUDED.headers, mutable = EXCLUDED.mutable, published_at = EXCLUDED.published_at,
         fetched_at = EXCLUDED.fetched_at, fill_token = EXCLUDED.fill_token
       WHERE cache_entries.fill_token IS NULL OR cache_entries.fill_token < EXCLUDED.fill_token`,
      [
        e.remote,
        e.path,
        e.digest,
        e.size,
        e.contentType ?? null,
        e.etag ?? null,
        e.lastModified ?? null,
        e.upstreamUrl ?? null,
        JSON.stringify(e.headers),
        e.mutable,
        e.publishedAt ?? null,
        e.fetchedAt,
        token,
      ],
    );
    return rowCount > 0;
  }

  /** Record a successful revalidation (304). Returns false when the row is gone or fenced. */
  async touch(remote: string, path: string, fetchedAt: Date, token: number): Promise<boolean> {
    this.memory?.delete(remote, path);
    const { rowCount } = await this.db.query(
      `UPDATE cache_entries SET fetched_at = $3, fill_token = $4
       WHERE remote = $1 AND path = $2 AND (fill_token IS NULL OR fill_token < $4)`,
      [remote, path, fetchedAt, token],
    );
    return rowCount > 0;
  }

  async delete(remote: string, path: string): Promise<void> {
    this.memory?.delete(remote, path);
    await this.db.query('DELETE FROM cache_entries WHERE remote = $1 AND path = $2', [remote, path]);
  }

  /** Number of cached objects and their total size. */
  async stats(remote: string): Promise<{ objects: number; bytes: number }> {
    const { rows } = await this.db.query<{ objects: number; bytes: number | null }>(
      'SELECT count(*)::int8 AS objects, sum(size)::int8 AS bytes FROM cache_entries WHERE remote = $1',
      [remote],
    );
    return { objects: rows[0]?.objects ?? 0, bytes: rows[0]?.bytes ?? 0 };
  }

  /** Every (path, mutable) of a remote, in path order, fetched in pages so huge remotes stay bounded. */
  async *paths(remote: string, pageSize = 1000): AsyncGenerator<{ path: string; mutable: boolean }> {
    let after = '';
    for (;;) {
      const { rows } = await this.db.query<{ path: string; mutable: boolean }>(
        'SELECT path, mutable FROM cache_entries WHERE remote = $1 AND path > $2 ORDER BY path LIMIT $3',
        [remote, after, pageSize],
      );
      yield* rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.path;
    }
  }

  /** Delete the listed paths of a remote; returns how many rows went. */
  async deletePaths(remote: string, paths: string[]): Promise<number> {
    if (paths.length === 0) return 0;
    for (const p of paths) this.memory?.delete(remote, p);
    const { rowCount } = await this.db.query(
      'DELETE FROM cache_entries WHERE remote = $1 AND path = ANY($2::text[])',
      [remote, paths],
    );
    return rowCount;
  }

  /** Delete every entry of a remote (all remotes when `remote` is undefined). */
  async deleteRemote(remote?: string): Promise<number> {
    this.memory?.clear(remote);
    const { rowCount } =
      remote === undefined
        ? await this.db.query('DELETE FROM cache_entries')
        : await this.db.query('DELETE FROM cache_entries WHERE remote = $1', [remote]);
    return rowCount;
  }
}

function fromRow(r: Row): CacheEntry {
  return {
    remote: r.remote,
    path: r.path,
    digest: r.digest,
    size: Number(r.size),
    contentType: r.content_type ?? undefined,
    etag: r.etag ?? undefined,
    lastModified: r.last_modified ?? undefined,
    upstreamUrl: r.upstream_url ?? undefined,
    headers: r.headers ?? {},
    mutable: r.mutable,
    publishedAt: r.published_at ?? undefined,
    fetchedAt: r.fetched_at,
  };
}
