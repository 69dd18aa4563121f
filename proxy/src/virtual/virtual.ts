import { type CacheEngine, type CacheResult, readObject } from '../cache/index.ts';
import type { Clock } from '../clock.ts';
import type { OrchardConfig, RemoteConfig, VirtualConfig } from '../config/index.ts';
import type { Format } from '../formats/index.ts';
import { ApiError } from '../http/errors.ts';
import type { Logger } from '../http/logger.ts';
import { type BlobStore, blobKey } from '../storage/blob-store.ts';
import type { MergedEntry, MergedStore } from './merged-store.ts';

export interface VirtualDeps {
  engine: CacheEngine;
  store: MergedStore;
  blobs: BlobStore;
  clock: Clock;
  logger: Logger;
}

/** What a virtual request resolves to: the repository, its member remotes (in order) and the cache path. */
export interface VirtualRequest {
  virtual: VirtualConfig;
  members: RemoteConfig[];
  format: Format;
  path: string;
  /** `{origin}/api/v1/remote/{member}` for a member name. */
  memberBase(member: string): string;
  /** `{origin}/api/v1/virtual/{name}`. */
  proxyBase: string;
}

/** The members of a virtual repository that exist in the config, in priority order. */
export function membersOf(config: OrchardConfig, virtual: VirtualConfig): RemoteConfig[] {
  return virtual.members.flatMap((name) => {
    const r = config.remotes.get(name);
    return r ? [r] : [];
  });
}

/**
 * The merged index at `req.path`, from the shared store while fresh, else
 * merged now: each member's own copy comes through the caching engine (so it
 * is fetched, rewritten and cached by the normal rules of that remote), then
 * the format merges them, first member winning. Members that do not have the
 * index (404) or cannot be reached are left out; when none has it, 404 if all
 * said so, else 502. Concurrent requests in this process share one merge.
 */
export class IndexMerger {
  private readonly deps: VirtualDeps;
  private readonly inFlight = new Map<string, Promise<{ entry: MergedEntry; fresh: boolean }>>();

  constructor(deps: VirtualDeps) {
    this.deps = deps;
  }

  async merged(req: VirtualRequest): Promise<{ entry: MergedEntry; fresh: boolean }> {
    const names = req.members.map((m) => m.name);
    const cached = await this.deps.store.get(req.virtual.name, names, req.path);
    if (cached) return { entry: cached, fresh: false };
    const key = `${req.virtual.name}\u0000${names.join(',')}\u0000${req.path}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.merge(req).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async merge(req: VirtualRequest): Promise<{ entry: MergedEntry; fresh: boolean }> {
    const parts: { remote: RemoteConfig; body: Buffer; contentType?: string; proxyBase: string }[] = [];
    const failures: string[] = [];
    for (const remote of req.members) {
      const proxyBase = req.memberBase(remote.name);
      try {
        const result = await this.deps.engine.fetch({ remote, path: req.path, proxyBase });
        parts.push({
          remote,
          body: await readAll(result),
          contentType: result.object.contentType,
          proxyBase,
        });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'NOT_FOUND') continue;
        const message = err instanceof ApiError ? err.message : (err as Error).message;
        this.deps.logger.warn('virtual member skipped', {
          virtual: req.virtual.name,
          remote: remote.name,
          error: message,
        });
        failures.push(`${remote.name}: ${message}`);
      }
    }
    if (parts.length === 0) {
      if (failures.length === 0)
        throw new ApiError(
          'NOT_FOUND',
          `no member of virtual repository ${req.virtual.name} has ${req.path}`,
        );
      throw new ApiError(
        'UPSTREAM_UNREACHABLE',
        `no member of virtual repository ${req.virtual.name} could serve ${req.path}: ${failures.join('; ')}`,
      );
    }
    const out = await req.format.mergeIndexes!({ path: req.path, proxyBase: req.proxyBase, members: parts });
    // A merge that is missing an unreachable member is served but not kept: the next request tries again.
    const ttlMs = failures.length > 0 ? 0 : Math.min(...req.members.map((m) => m.cache.mutableTtl)) * 1000;
    const contentType = out.contentType ?? parts[0]!.contentType ?? 'application/octet-stream';
    const entry = await this.deps.store.put(
      req.virtual.name,
      req.members.map((m) => m.name),
      req.path,
      out.body,
      contentType,
      ttlMs,
      this.deps.clock.now(),
    );
    return { entry, fresh: true };
  }
}

/** A merged entry as a CacheResult, so the engine's `respond` serves it (ranges, ETag, HEAD). */
export function mergedResult(deps: VirtualDeps, entry: MergedEntry, fresh: boolean): CacheResult {
  return {
    source: fresh ? 'remote' : 'cache',
    result: fresh ? 'miss' : 'hit',
    stale: false,
    object: {
      size: entry.size,
      digest: entry.digest,
      contentType: entry.contentType,
      lastModified: entry.mergedAt,
      headers: {},
      open: (range) => deps.blobs.get(blobKey(entry.digest), { range }),
      countServed: () => {},
    },
  };
}

async function readAll(result: CacheResult): Promise<Buffer> {
  // Members' index documents were bounded when they were filled.
  return (await readObject(result.object, Number.POSITIVE_INFINITY))!;
}
