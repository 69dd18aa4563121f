import type { Queryable } from '../db/database.ts';

/**
 * The docker cache paths that name a repository (see `dockerCachePath`): the
 * path minus this suffix is the repository. Migration 040 backfills with it.
 */
const objectSuffix = '/(manifests/[^/]+|blobs/[^/]+|tags/list)$';

/**
 * `registry_cached_repositories`: which repositories of a pull-through docker
 * remote Orchard holds something of, so `_catalog` lists them without
 * reading the cache index. The registry records a repository each time it
 * fills or revalidates one of its manifests, blobs or tag lists (an upsert
 * that costs one primary-key probe, next to the upstream request made
 * anyway; a hit records nothing); a cache flush forgets the repositories it
 * emptied. Recording on every
 * fill rather than once per process keeps a flush exact on every replica: the
 * first fill after it, wherever it runs, lists the repository again.
 * Every method is safe to call concurrently.
 */
export class CachedRepositories {
  private readonly db: Queryable;

  constructor(db: Queryable) {
    this.db = db;
  }

  /** Note that `remote` holds something of `repository`. Idempotent. */
  async record(remote: string, repository: string): Promise<void> {
    await this.db.query(
      `INSERT INTO registry_cached_repositories (remote, repository) VALUES ($1, $2)
       ON CONFLICT (remote, repository) DO NOTHING`,
      [remote, repository],
    );
  }

  /** Forget every repository of `remote` (its whole cache was flushed). Returns how many went. */
  async forgetRemote(remote: string): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM registry_cached_repositories WHERE remote = $1', [
      remote,
    ]);
    return rowCount;
  }

  /**
   * Forget the repositories of `remote` left without any cache entry (after
   * some of its entries were flushed). Each repository costs one range probe
   * of the cache index's primary key (`{repository}/` ≤ path < `{repository}0`,
   * '0' being the byte after '/'), stopped at its first object; the suffix
   * check keeps a nested repository's objects (`a/b/…`) from counting for `a`.
   * Returns how many went.
   */
  async forgetEmptied(remote: string): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM registry_cached_repositories AS r
       WHERE r.remote = $1 AND NOT EXISTS (
         SELECT 1 FROM cache_entries AS c
         WHERE c.remote = r.remote
           AND c.path > r.repository || '/' AND c.path < r.repository || '0'
           AND regexp_replace(c.path, $2, '') = r.repository
       )`,
      [remote, objectSuffix],
    );
    return rowCount;
  }
}
