import type { CacheEngine, CacheRequest, CacheResult } from '../../cache/index.ts';
import { readObject, respond } from '../../cache/index.ts';
import type { ProbeResult } from '../../cache/probe.ts';
import { dockerCachePath, isTag, parseDigest, sha256Of } from '../../formats/docker/index.ts';
import { publicOrigin } from '../../http/origin.ts';
import { NotFoundError } from '../../storage/errors.ts';
import type { RegistryRequest } from '../context.ts';
import { OciError } from '../errors.ts';
import { pageTags, parseTagQuery, sendTags } from '../tags.ts';
import { needsPlatformFallback, platformDigest, readManifest } from './platform-fallback.ts';
import { TagAliases } from './tag-aliases.ts';

type UpstreamHead = Extract<ProbeResult, { source: 'upstream' }>;

/** What `serve` answered from; `replaced` when a fallback answered instead of the object. */
interface Served {
  result: CacheResult | UpstreamHead;
  replaced?: boolean;
}

/** Serve something else in place of an object: `wants` decides from its media type. */
interface Fallback {
  wants(contentType: string | undefined): boolean;
  /** Answer the request; the object's body is read or destroyed. */
  serve(result: CacheResult): Promise<void>;
}

/** Pull-through for `type: remote` docker remotes. Errors are thrown as the engine's ApiErrors or OciErrors. */
export interface PullThrough {
  /** `GET`/`HEAD /v2/{name}/manifests/{reference}` (end-3). */
  manifest(r: RegistryRequest, reference: string): Promise<void>;
  /** `GET`/`HEAD /v2/{name}/blobs/{digest}` (end-2), with Range once cached. */
  blob(r: RegistryRequest, digest: string): Promise<void>;
  /** `GET /v2/{name}/tags/list` (end-8a/b): the upstream's whole list is cached, pages are cut here. */
  tags(r: RegistryRequest): Promise<void>;
}

/** Largest upstream tag list accepted. */
const maxTagListBytes = 16 * 1024 * 1024;

/**
 * Pull-through on the caching engine: one upstream fetch per object across
 * replicas, digests verified while streaming (the docker format names the
 * digest of every digest-addressed path), tags mutable with the remote's TTL,
 * digests immutable, 404s remembered for `negativeTtl`.
 */
export class EnginePullThrough implements PullThrough {
  private readonly engine: CacheEngine;
  private readonly aliases = new TagAliases();

  constructor(engine: CacheEngine) {
    this.engine = engine;
  }

  async manifest(r: RegistryRequest, reference: string): Promise<void> {
    const byDigest = parseDigest(reference);
    if (!byDigest && !isTag(reference)) {
      throw new OciError('MANIFEST_UNKNOWN', 'the reference is neither a tag nor a digest');
    }
    const path = dockerCachePath({ kind: 'manifest', repository: r.target.repository, reference });
    const remote = r.target.remote.name;
    if (byDigest?.algorithm === 'sha256') await this.aliases.adopt(this.engine, remote, byDigest.hex, path);
    if (!byDigest) await this.aliases.adoptTag(this.engine, remote, path);
    // Only a tag is negotiated: a digest names exact bytes.
    const fallback = byDigest ? undefined : this.platformFallback(r, reference);
    const served = await this.serve(r, path, fallback);
    const result = served.result;
    if (result.source === 'upstream') {
      const named = byDigest ? undefined : sha256Of(result.headers['docker-content-digest'] ?? '');
      if (named) this.aliases.rememberProbe(remote, path, named);
      return sendProbed(r, result, byDigest ? reference : result.headers['docker-content-digest']);
    }
    await recordRepository(r, result);
    if (!byDigest) {
      // Streaming a cold fill, the digest is only the upstream's word; `adopt` checks it against the stored bytes.
      const hex = result.object.digest ?? sha256Of(result.object.headers['docker-content-digest'] ?? '');
      if (hex) this.aliases.remember(remote, hex, path);
    }
    if (served.replaced) return;
    const digest = byDigest ? reference : result.object.digest ? `sha256:${result.object.digest}` : undefined;
    const ctx = r.ctx;
    // The digest of the bytes served; an upstream's header is only trusted before the digest is known.
    if (digest) ctx.set('Docker-Content-Digest', digest);
    ctx.remove('Accept-Ranges');
  }

  /**
   * The Accept fallback of a manifest by tag: when the object is an index the
   * client's `Accept` does not take, the `defaultPlatform` entry is served by
   * its digest instead (the by-digest path, so `Docker-Content-Digest` is that
   * digest), as distribution does. None without an `Accept` header.
   */
  private platformFallback(r: RegistryRequest, tag: string): Fallback | undefined {
    const accept = r.ctx.get('accept');
    if (!accept) return undefined;
    return {
      wants: (contentType) => needsPlatformFallback(contentType, accept),
      serve: async (result) => {
        const index = await readManifest(result.object, r.deps.maxManifestBytes);
        const digest = platformDigest(index, `tag ${tag}`);
        await this.manifest(r, digest);
      },
    };
  }

  async blob(r: RegistryRequest, digest: string): Promise<void> {
    if (!parseDigest(digest)) throw new OciError('DIGEST_INVALID', 'not a sha256 or sha512 digest');
    const path = dockerCachePath({ kind: 'blob', repository: r.target.repository, digest });
    const { result } = await this.serve(r, path);
    if (result.source === 'upstream') return sendProbed(r, result, digest);
    await recordRepository(r, result);
    r.ctx.set('Docker-Content-Digest', digest);
  }

  async tags(r: RegistryRequest): Promise<void> {
    const q = parseTagQuery(r);
    const path = dockerCachePath({ kind: 'tags', repository: r.target.repository });
    const result = await this.engine.fetch(this.request(r, path));
    await recordRepository(r, result);
    const body = await readObject(result.object, maxTagListBytes);
    if (!body) throw new OciError('UNKNOWN', 'the upstream tag list is too large', { status: 502 });
    let tags: unknown;
    try {
      tags = (JSON.parse(body.toString('utf8')) as { tags?: unknown }).tags;
    } catch {
      throw new OciError('UNKNOWN', 'the upstream tag list is not JSON', { status: 502 });
    }
    const list = Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
    sendTags(r, pageTags(list, q), q);
  }

  private request(r: RegistryRequest, path: string): CacheRequest {
    const { ctx, target } = r;
    return {
      remote: target.remote,
      path,
      proxyBase: `${publicOrigin(ctx)}/v2/${target.remote.name}`,
    };
  }

  /**
   * Fetch, decide, answer; a cached entry whose blob vanished is forgotten
   * and fetched again, once. A HEAD of an uncached object is not fetched: the
   * engine's probe asks the upstream with a HEAD and nothing is stored
   * (distribution's pull-through does the same); the caller answers it.
   * With `fallback`, an object it `wants` is handed to its `serve` before
   * anything is written (`replaced`); a HEAD probe that finds such an object
   * upstream fetches it, since the decision needs its body.
   */
  private async serve(r: RegistryRequest, path: string, fallback?: Fallback): Promise<Served> {
    const req = this.request(r, path);
    let probed: CacheResult | undefined;
    if (r.ctx.method === 'HEAD') {
      const p = await this.engine.probe(req);
      if (p.source === 'upstream' && !fallback?.wants(p.contentType)) return { result: p };
      if (p.source === 'cache') probed = p.result;
      if (probed && !fallback?.wants(probed.object.contentType)) {
        // A HEAD never opens the blob, so there is nothing to forget here.
        await respond(r.ctx, probed);
        return { result: probed };
      }
    }
    for (let attempt = 0; ; attempt++) {
      const result = attempt === 0 && probed ? probed : await this.engine.fetch(req);
      try {
        if (fallback?.wants(result.object.contentType)) {
          await fallback.serve(result);
          return { result, replaced: true };
        }
        await respond(r.ctx, result);
        return { result };
      } catch (err) {
        result.object.body?.destroy();
        if (!(err instanceof NotFoundError) || result.source !== 'cache' || attempt > 0) throw err;
        await this.engine.forget(req.remote.name, req.path);
      }
    }
  }
}

/**
 * List the request's repository in `_catalog` (`CachedRepositories`) when
 * `result` stored or revalidated something of it; a hit changed nothing. A
 * failure to record is logged and does not fail the pull.
 */
async function recordRepository(r: RegistryRequest, result: CacheResult): Promise<void> {
  if (result.result === 'hit') return;
  const { remote, repository } = r.target;
  try {
    await r.deps.catalog.cached.record(remote.name, repository);
  } catch (err) {
    r.deps.logger.warn('could not record a cached repository for _catalog', {
      remote: remote.name,
      repository,
      error: err as Error,
    });
  }
}

/** Answer a HEAD from the upstream's HEAD: 200, its length and media type, and the digest. */
function sendProbed(r: RegistryRequest, probed: UpstreamHead, digest: string | undefined): void {
  const ctx = r.ctx;
  ctx.status = 200;
  ctx.set('Content-Type', probed.contentType ?? 'application/octet-stream');
  if (probed.size !== undefined) ctx.length = probed.size;
  if (digest && parseDigest(digest)) {
    ctx.set('Docker-Content-Digest', digest);
    ctx.set('ETag', `"${digest}"`);
  }
}
