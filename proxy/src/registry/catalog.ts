import type Koa from 'koa';
import type { OrchardConfig } from '../config/index.ts';
import type { Database } from '../db/database.ts';
import { CachedRepositories } from './cached-repositories.ts';
import { OciError } from './errors.ts';
import { parseTagQuery } from './tags.ts';

/** Page size of `_catalog` without `n` (distribution's default). */
export const defaultCatalogPage = 100;

/**
 * The repositories `GET /v2/_catalog` lists, as `{remote}/{repository}`:
 * those of hosted docker remotes (any manifest or blob in the registry
 * tables) and, for pull-through docker remotes, those recorded in
 * `registry_cached_repositories` (see `CachedRepositories`: something of
 * theirs was cached; the cache index itself is not read). Only remotes
 * named in the call count, so a removed remote's leftovers are not listed.
 * Names compare in byte order (COLLATE "C"). Safe for concurrent use.
 */
export class CatalogStore {
  private readonly db: Database;
  /** Where pull-through fills record their repositories. */
  readonly cached: CachedRepositories;

  constructor(db: Database) {
    this.db = db;
    this.cached = new CachedRepositories(db);
  }

  /** Up to `limit` names after `last` (all names when `last` is empty), in byte order. */
  async repositories(
    remotes: { hosted: string[]; cached: string[] },
    last: string,
    limit: number,
  ): Promise<string[]> {
    if (limit <= 0 || remotes.hosted.length + remotes.cached.length === 0) return [];
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT name FROM (
         SELECT remote || '/' || repository AS name FROM registry_manifests WHERE remote = ANY($1::text[])
         UNION
         SELECT remote || '/' || repository FROM registry_blobs WHERE remote = ANY($1::text[])
         UNION
         SELECT remote || '/' || repository FROM registry_cached_repositories WHERE remote = ANY($2::text[])
       ) AS names
       WHERE name COLLATE "C" > $3::text COLLATE "C"
       ORDER BY name COLLATE "C"
       LIMIT $4`,
      [remotes.hosted, remotes.cached, last, limit],
    );
    return rows.map((r) => r.name);
  }
}

/**
 * `GET /v2/_catalog[?n=&last=]` (distribution's "Listing Repositories"; the
 * OCI spec leaves it optional): `{"repositories": [...]}` in lexical order,
 * `defaultCatalogPage` names without `n`, at most 10000 with it, and
 * `Link: </v2/_catalog?n=…&last=…>; rel="next"` when more follow. `n=0` is an
 * empty list without Link. A malformed `n` is a 400.
 */
export async function serveCatalog(ctx: Koa.Context, cfg: OrchardConfig, store: CatalogStore): Promise<void> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    throw new OciError('UNSUPPORTED', undefined, { headers: { Allow: 'GET, HEAD' } });
  }
  const q = parseTagQuery({ ctx });
  const n = q.n ?? defaultCatalogPage;
  const hosted: string[] = [];
  const cached: string[] = [];
  for (const remote of cfg.remotes.values()) {
    if (remote.package !== 'docker') continue;
    if (remote.type === 'local') hosted.push(remote.name);
    else if (remote.type === 'remote') cached.push(remote.name);
  }
  const names = await store.repositories({ hosted, cached }, q.last ?? '', n + 1);
  const page = names.slice(0, n);
  if (names.length > n && page.length > 0) {
    const next = `/v2/_catalog?n=${n}&last=${encodeURIComponent(page[page.length - 1]!)}`;
    ctx.set('Link', `<${next}>; rel="next"`);
  }
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = { repositories: page };
}
