import { Readable } from 'node:stream';
import type { RemoteConfig } from '../config/index.ts';
import { type ArtifactHint, type Format, findFormat, getFormat, listFormats } from '../formats/index.ts';
import { ApiError } from '../http/errors.ts';
import { type ByteRange, blobKey, type GetResult } from '../storage/blob-store.ts';
import { UpstreamClient } from '../upstream/client.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { CacheEngineOptions, CacheRequest, CacheResult } from './api.ts';
import { BlobMemory } from './blob-memory.ts';
import { classifyPath } from './classify.ts';
import { type CacheEntry, CacheIndex } from './entries.ts';
import { EntryCache } from './entry-cache.ts';
import { startFill } from './fill.ts';
import type { FillDeps, FillJob } from './fill-run.ts';
import { UpstreamHealth } from './health.ts';
import { HintStore } from './hints.ts';
import { coordKeys, flightKey, flushChannel } from './keys.ts';
import { batched, CacheMetrics, type CacheResultLabel } from './metrics.ts';
import { type ProbeResult, probeObject } from './probe.ts';
import { isQuarantined, quarantineApplies, quarantineError } from './quarantine.ts';
import { SingleFlight } from './single-flight.ts';

export type { CachedObject, CacheEngineOptions, CacheRequest, CacheResult } from './api.ts';
export type { ProbeResult } from './probe.ts';

/**
 * The pull-through cache: classify, look up, serve hits, and fill misses and
 * expired entries through one upstream fetch per key across all replicas.
 * Every route that proxies a remote (generic, formats, registry, virtual)
 * calls `fetch`. Safe for concurrent use; one engine per process.
 */
export class CacheEngine {
  readonly index: CacheIndex;
  readonly hints: HintStore;
  readonly metrics: CacheMetrics;
  readonly health: UpstreamHealth;
  private readonly opts: CacheEngineOptions;
  private readonly flights: SingleFlight;
  private readonly fillDeps: FillDeps;
  private readonly upstream: Upstream;
  private readonly ownsUpstream: boolean;
  private readonly unsubscribe: Promise<() => Promise<void>>;
  private readonly blobMemory: BlobMemory;
  /** The Format serving a package type. */
  readonly formatFor: (packageType: string) => Format;

  constructor(opts: CacheEngineOptions) {
    this.opts = opts;
    this.index = new CacheIndex(opts.db, new EntryCache({ clock: opts.clock, ttlMs: opts.entryMemoryMs }));
    // Flushes on other replicas make this one forget its remembered rows too (best effort; rows expire anyway).
    this.unsubscribe = opts.coord
      .subscribe(flushChannel, (remote) => this.index.forgetRemembered(remote === '*' ? undefined : remote))
      .catch(() => async () => {});
    this.hints = new HintStore(opts.db);
    this.metrics = new CacheMetrics(opts.registry);
    this.health = new UpstreamHealth({ coord: opts.coord, clock: opts.clock, logger: opts.logger });
    this.blobMemory = new BlobMemory({ maxBytes: opts.blobMemoryBytes });
    this.formatFor = opts.formatFor ?? getFormat;
    this.ownsUpstream = !opts.upstream;
    this.upstream = wrapUpstream(
      opts.upstream ?? new UpstreamClient({ ...opts.upstreamOptions, logger: opts.logger }),
      opts,
    );
    const leaseMs = opts.fillLeaseMs ?? 15_000;
    this.flights = new SingleFlight({ coord: opts.coord, logger: opts.logger, leaseMs });
    this.fillDeps = {
      blobs: opts.blobs,
      index: this.index,
      hints: this.hints,
      coord: opts.coord,
      upstream: this.upstream,
      metrics: this.metrics,
      health: this.health,
      logger: opts.logger,
      clock: opts.clock,
      spoolDir: opts.spoolDir,
      leaseMs,
      credentials: (remote) => opts.config.current().credentials(remote),
    };
  }

  /**
   * Serve (remote, path). Throws ApiError: PATH_NOT_ALLOWED (403), NOT_FOUND
   * (upstream 404, remembered for negativeTtl), QUARANTINED (404), UPSTREAM_*
   * (502/504) when the upstream failed and no stale copy could be served.
   */
  async fetch(req: CacheRequest, attempt = 0, opts: { force?: boolean } = {}): Promise<CacheResult> {
    const { remote, path } = req;
    const format = this.formatFor(remote.package);
    const labels = { remote: remote.name, package: remote.package };
    const cls = classifyPath(remote, format, path);
    if (cls.kind === 'forbidden') {
      this.metrics.count(labels, 'forbidden');
      throw new ApiError('PATH_NOT_ALLOWED', `${path} matches none of the patterns of remote ${remote.name}`);
    }
    const mutable = cls.kind === 'mutable';
    const quarantine = !mutable && quarantineApplies(remote, path);
    const now = this.opts.clock.now();
    const entry = await this.index.get(remote.name, path);
    if (entry) {
      if (quarantine && isQuarantined(remote, path, entry.publishedAt, now)) {
        this.metrics.count(labels, 'quarantined');
        throw quarantineError(remote, path, entry.publishedAt!);
      }
      if (!opts.force && (await this.isFresh(remote, format, mutable, entry)))
        return this.stored(entry, 'hit', false, labels);
    } else if (
      remote.cache.negativeTtl > 0 &&
      (await this.opts.coord.get(coordKeys.negative(remote.name, path)))
    ) {
      this.metrics.count(labels, 'negative');
      throw new ApiError('NOT_FOUND', `${path} does not exist upstream (remembered)`);
    }
    const hint = entry || mutable ? undefined : await this.hintFor(req, format);
    if (quarantine && hint?.publishedAt && isQuarantined(remote, path, hint.publishedAt, now)) {
      this.metrics.count(labels, 'quarantined');
      throw quarantineError(remote, path, hint.publishedAt);
    }
    const job: FillJob = {
      remote,
      format,
      path,
      mutable,
      conditional:
        mutable &&
        entry !== undefined &&
        (cls.builtin ? format.conditionalRevalidation?.(path) === true : remote.checkMutableUpdates),
      previous: entry,
      hint,
      quarantined: quarantine,
      proxyBase: req.proxyBase,
      alreadyFresh: async () => {
        if (opts.force) return false;
        const current = await this.index.get(remote.name, path, { fresh: true });
        return current !== undefined && (await this.isFresh(remote, format, mutable, current));
      },
    };
    return this.viaFill(req, job, attempt);
  }

  /**
   * Answer a HEAD without downloading (see `probeObject` in probe.ts): a
   * cached object goes through `fetch`; an uncached one costs one upstream
   * HEAD and stores nothing. Throws like `fetch`.
   */
  probe(req: CacheRequest): Promise<ProbeResult> {
    return probeObject(
      {
        index: this.index,
        coord: this.opts.coord,
        upstream: this.upstream,
        metrics: this.metrics,
        health: this.health,
        formatFor: this.formatFor,
        credentials: this.fillDeps.credentials,
        now: () => this.opts.clock.now(),
        fetch: (r) => this.fetch(r),
      },
      req,
    );
  }

  /**
   * The stored hint for an artifact about to be filled. When there is none and
   * the format names the index that would publish it (`hintSource`), that
   * index is filled first, re-fetched even when fresh (a version newer than
   * the cached index), at most once per negativeTtl (at least 30 s) per index,
   * so a storm of requests for a version that does not exist cannot turn into
   * a storm of index fetches. An index that cannot be had leaves no hint.
   */
  private async hintFor(req: CacheRequest, format: Format): Promise<ArtifactHint | undefined> {
    const { remote, path } = req;
    if (format.digestFromPath?.(path)) return undefined;
    const known = await this.hints.get(remote.name, path);
    const source = format.hintSource?.(path);
    if (known || !source || source === path) return known;
    const throttle = coordKeys.hintRefresh(remote.name, source);
    const recent = (await this.opts.coord.get(throttle)) !== undefined;
    if (!recent) {
      const ttlMs = Math.max(remote.cache.negativeTtl, 30) * 1000;
      await this.opts.coord.set(throttle, '1', { ttlMs });
    }
    try {
      const index = await this.fetch({ ...req, path: source }, 0, { force: !recent });
      index.object.body?.destroy();
    } catch (err) {
      this.opts.logger.debug('hint source unavailable', {
        remote: remote.name,
        path: source,
        error: (err as Error).message,
      });
      return undefined;
    }
    return this.hints.get(remote.name, path);
  }

  /** Drop the index row of an entry whose blob has vanished, so the next fetch fills it again. */
  async forget(remote: string, path: string): Promise<void> {
    this.opts.logger.warn('cached blob missing; dropping the entry', { remote, path });
    await this.index.delete(remote, path);
    await this.opts.coord.delete(coordKeys.fresh(remote, path));
  }

  /** Tell every replica that `remotes` were flushed, so they forget remembered rows. */
  async announceFlush(remotes: string[] | 'all'): Promise<void> {
    for (const r of remotes === 'all' ? ['*'] : remotes) await this.opts.coord.publish(flushChannel, r);
  }

  /** Abort fills in flight and close upstream connections. */
  async close(): Promise<void> {
    await (await this.unsubscribe)().catch(() => {});
    this.flights.abortAll();
    if (this.ownsUpstream) await this.upstream.close();
  }

  /** Fills this process is leading or waiting on. */
  get inFlight(): number {
    return this.flights.size;
  }

  /** Resolves when the fills in flight in this process are over (committed or given up). */
  idle(): Promise<void> {
    return this.flights.idle();
  }

  private async viaFill(req: CacheRequest, job: FillJob, attempt: number): Promise<CacheResult> {
    const { remote, path } = job;
    const labels = { remote: remote.name, package: remote.package };
    const names = {
      key: flightKey(remote.name, path),
      lockName: coordKeys.fillLock(remote.name, path),
      outcomeKey: coordKeys.outcome(remote.name, path),
      channel: coordKeys.fillChannel(remote.name, path),
    };
    const { flight, joined } = this.flights.join(names, (lock) => startFill(this.fillDeps, job, lock));
    let start: Awaited<typeof flight.started>;
    try {
      start = await flight.started;
      if (joined || !flight.isLeader) this.metrics.followers.inc(labels);
      if (start.kind === 'stream') {
        const spool = start.spool;
        const reader = (range?: { start: number; end: number }) => {
          const served = batched((n) => this.metrics.served(labels, n));
          const r = spool.createReader({ ...range, onBytes: (n) => served.add(n) });
          r.once('close', () => served.flush());
          return r;
        };
        this.metrics.count(labels, 'miss');
        return {
          source: 'remote',
          result: 'miss',
          stale: false,
          object: { ...start.meta, body: reader(), openRange: reader, countServed: () => {} },
        };
      }
    } finally {
      flight.leave();
    }
    if (start.kind === 'stored') {
      // Committed just now, possibly by another replica: the database, not the memory.
      const entry = await this.index.get(remote.name, path, { fresh: true });
      if (entry) return this.stored(entry, start.result, start.result === 'stale', labels);
      // Flushed between the commit and this read: look again, a bounded number of times.
      if (attempt < 2) return this.fetch(req, attempt + 1);
      throw new ApiError('UPSTREAM_ERROR', `${path} could not be cached`);
    }
    if (start.kind === 'quarantined') {
      this.metrics.count(labels, 'quarantined');
      throw quarantineError(remote, path, start.publishedAt);
    }
    this.metrics.count(labels, 'miss');
    if (start.kind === 'not-found') throw new ApiError('NOT_FOUND', `${path} does not exist upstream`);
    throw start.error;
  }

  /** Open a stored blob; a small one is read whole and remembered, so the next hit skips the store. */
  private async openBlob(entry: CacheEntry, range?: ByteRange): Promise<GetResult> {
    const key = blobKey(entry.digest);
    if (!this.blobMemory.accepts(entry.size)) return this.opts.blobs.get(key, { range });
    const whole = await this.opts.blobs.get(key);
    const chunks: Buffer[] = [];
    for await (const c of whole.body) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    if (bytes.length === entry.size) this.blobMemory.set(entry.digest, bytes);
    const end = Math.min(range?.end ?? bytes.length - 1, bytes.length - 1);
    const slice = range ? bytes.subarray(range.start, end + 1) : bytes;
    return {
      body: Readable.from([slice]),
      size: bytes.length,
      range: range ? { start: range.start, end } : undefined,
    };
  }

  private async isFresh(
    remote: RemoteConfig,
    format: Format,
    mutable: boolean,
    entry: CacheEntry,
  ): Promise<boolean> {
    if (!mutable) {
      const ttl = remote.cache.immutableTtl;
      return ttl === 0 || entry.fetchedAt.getTime() + ttl * 1000 > this.opts.clock.now();
    }
    if (format.pinnedByHint?.(entry.path)) {
      // Listed with its digest by a parent index (apt Release, rpm repomd.xml): current exactly while it matches.
      const pin = await this.hints.get(remote.name, entry.path);
      if (pin?.digest?.algorithm === 'sha256') return pin.digest.hex === entry.digest;
    }
    if (remote.cache.mutableTtl <= 0) return false;
    return (await this.opts.coord.get(coordKeys.fresh(remote.name, entry.path))) !== undefined;
  }

  private stored(
    entry: CacheEntry,
    result: CacheResultLabel,
    stale: boolean,
    labels: { remote: string; package: string },
  ): CacheResult {
    this.metrics.count(labels, result);
    return {
      source: 'cache',
      result,
      stale,
      object: {
        size: entry.size,
        digest: entry.digest,
        contentType: entry.contentType ?? 'application/octet-stream',
        lastModified: entry.lastModified ?? entry.fetchedAt.toUTCString(),
        headers: entry.headers,
        bytes: this.blobMemory.get(entry.digest),
        open: (range) => this.openBlob(entry, range),
        countServed: (n) => this.metrics.served(labels, n),
      },
    };
  }
}

/** Let each registered format wrap the upstream client with its protocol adapter (docker's token flow). */
function wrapUpstream(base: Upstream, opts: CacheEngineOptions): Upstream {
  const env = { config: opts.config, clock: opts.clock, logger: opts.logger, registry: opts.registry };
  let upstream = base;
  for (const name of listFormats()) upstream = findFormat(name)?.wrapUpstream?.(upstream, env) ?? upstream;
  return upstream;
}
