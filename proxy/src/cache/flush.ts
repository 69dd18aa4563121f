import type { OrchardConfig } from '../config/index.ts';
import type { Coordinator } from '../coord/coordinator.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { CachedRepositories } from '../registry/cached-repositories.ts';
import type { CacheIndex } from './entries.ts';
import { coordKeys } from './keys.ts';

export interface FlushRequest {
  /** One remote; required unless `all`. */
  remote?: string;
  /** Only paths matching this regular expression (unanchored, like remote patterns). */
  pattern?: string;
  /** Only drop the TTL state of mutable entries (forcing revalidation); keep every entry. */
  mutableOnly: boolean;
  /** Every remote. */
  all: boolean;
}

export interface FlushResult {
  remotes: string[];
  pattern?: string;
  mutable_only: boolean;
  /** Index rows deleted (the next request fetches again). */
  entries_deleted: number;
  /** Mutable TTL keys deleted (the next request revalidates). */
  ttl_keys_deleted: number;
  /** Remembered upstream 404s forgotten. */
  negative_keys_deleted: number;
}

/**
 * `PUT /cache/flush`. Drops cache state of `type: remote` remotes (local
 * remotes hold hosted files, not a cache, and are never flushed). Blobs stay:
 * they are content-addressed and may be shared; garbage collection removes
 * unreferenced ones. With a pattern, remembered 404s of the remote are all
 * forgotten (the coordinator cannot list keys by regex): that costs at most
 * one upstream request per forgotten path.
 *
 * `_catalog` lists what the cache holds, so a flush that deletes entries also
 * forgets the registry repositories it left empty (all of the remote's for a
 * whole flush; with a pattern, those with no entry left). A fill racing the
 * flush can leave a repository unlisted until its next fill or revalidation.
 */
export async function flushCache(
  req: FlushRequest,
  deps: { config: OrchardConfig; index: CacheIndex; coord: Coordinator; db: Queryable },
): Promise<FlushResult> {
  const re = compile(req.pattern);
  const remotes = selectRemotes(req, deps.config);
  const out: FlushResult = {
    remotes,
    pattern: req.pattern,
    mutable_only: req.mutableOnly,
    entries_deleted: 0,
    ttl_keys_deleted: 0,
    negative_keys_deleted: 0,
  };
  const repositories = new CachedRepositories(deps.db);
  for (const remote of remotes) {
    if (!re) {
      out.ttl_keys_deleted += await deps.coord.deletePrefix(coordKeys.remotePrefix('fresh', remote));
      if (!req.mutableOnly) {
        out.entries_deleted += await deps.index.deleteRemote(remote);
        out.negative_keys_deleted += await deps.coord.deletePrefix(coordKeys.remotePrefix('neg', remote));
        await repositories.forgetRemote(remote);
      }
      continue;
    }
    const before = out.entries_deleted;
    await flushMatching(remote, re, req.mutableOnly, deps, out);
    if (out.entries_deleted > before) await repositories.forgetEmptied(remote);
  }
  return out;
}

async function flushMatching(
  remote: string,
  re: RegExp,
  mutableOnly: boolean,
  deps: { index: CacheIndex; coord: Coordinator },
  out: FlushResult,
): Promise<void> {
  let batch: string[] = [];
  const drain = async () => {
    if (!mutableOnly) out.entries_deleted += await deps.index.deletePaths(remote, batch);
    batch = [];
  };
  for await (const e of deps.index.paths(remote)) {
    if (!re.test(e.path) || (mutableOnly && !e.mutable)) continue;
    if (e.mutable) {
      const key = coordKeys.fresh(remote, e.path);
      if ((await deps.coord.ttl(key)) !== undefined) {
        await deps.coord.delete(key);
        out.ttl_keys_deleted++;
      }
    }
    batch.push(e.path);
    if (batch.length >= 500) await drain();
  }
  await drain();
  if (!mutableOnly)
    out.negative_keys_deleted += await deps.coord.deletePrefix(coordKeys.remotePrefix('neg', remote));
}

function selectRemotes(req: FlushRequest, config: OrchardConfig): string[] {
  const cached = [...config.remotes.values()].filter((r) => r.type === 'remote');
  if (req.all) return cached.map((r) => r.name);
  if (!req.remote)
    throw new ApiError('BAD_REQUEST', 'name a remote (?remote=) or flush everything (?all=true)');
  const remote = config.remotes.get(req.remote);
  if (!remote) throw new ApiError('REMOTE_NOT_FOUND', `no remote named ${req.remote}`);
  if (remote.type !== 'remote')
    throw new ApiError('BAD_REQUEST', `remote ${req.remote} is local: it holds files, not a cache`);
  return [remote.name];
}

function compile(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined || pattern === '') return undefined;
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new ApiError('BAD_REQUEST', `invalid pattern: ${(err as Error).message}`);
  }
}
