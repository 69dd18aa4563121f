import type { Credentials } from '../config/index.ts';
import type { Coordinator } from '../coord/coordinator.ts';
import type { Format } from '../formats/index.ts';
import { ApiError } from '../http/errors.ts';
import { toUpstreamError } from '../upstream/errors.ts';
import type { Upstream, UpstreamResponse } from '../upstream/upstream.ts';
import type { CacheRequest, CacheResult } from './api.ts';
import { classifyPath } from './classify.ts';
import type { CacheIndex } from './entries.ts';
import { upstreamApiError } from './fill.ts';
import type { UpstreamHealth } from './health.ts';
import { coordKeys, flightKey } from './keys.ts';
import type { CacheMetrics } from './metrics.ts';
import { isQuarantined, quarantineApplies, quarantineError } from './quarantine.ts';

/**
 * What `CacheEngine.probe` learned about (remote, path) without downloading it:
 * - `cached`: the object is in the index, so it went through `fetch` as a GET
 *   would (a hit, or a mutable entry's usual revalidation); the caller answers
 *   from `result` (a HEAD sends only its headers);
 * - `upstream`: it is not cached; the upstream answered a `HEAD` with 200 and
 *   these headers (lower-case names). Nothing was stored.
 */
export type ProbeResult =
  | { source: 'cache'; result: CacheResult }
  | { source: 'upstream'; size?: number; contentType?: string; headers: Record<string, string> };

/** The engine parts a probe uses. */
export interface ProbeDeps {
  index: CacheIndex;
  coord: Coordinator;
  upstream: Upstream;
  metrics: CacheMetrics;
  health: UpstreamHealth;
  formatFor(packageType: string): Format;
  credentials(remote: string): Credentials | undefined;
  /** Epoch ms (the engine's clock), for quarantine. */
  now(): number;
  /** The engine's `fetch`, for objects that are cached (or forbidden: it throws without a network call). */
  fetch(req: CacheRequest): Promise<CacheResult>;
}

/**
 * Answer a HEAD for (remote, path) without filling the cache: a cached entry
 * goes through `fetch`; otherwise one upstream `HEAD` (same URL, headers,
 * credentials, credential origin and timeouts as a fill's GET; the docker
 * format's token flow applies because `upstream` is the engine's wrapped
 * client). Throws like `fetch`: NOT_FOUND on a remembered or fresh upstream
 * 404/410 (a fresh one is remembered for `negativeTtl`, as a fill does),
 * QUARANTINED when the upstream's Last-Modified is inside the quarantine,
 * UPSTREAM_* (with `detail.upstream_status`) for other statuses and failures.
 *
 * Safe for concurrent use. Concurrent probes of one (remote, path) in this
 * process share one upstream HEAD (`sharedProbe`): each gets its result, or
 * its error, and nothing outlives the flight.
 */
export async function probeObject(deps: ProbeDeps, req: CacheRequest): Promise<ProbeResult> {
  const { remote, path } = req;
  const format = deps.formatFor(remote.package);
  const labels = { remote: remote.name, package: remote.package };
  if (classifyPath(remote, format, path).kind === 'forbidden') return cached(deps, req);
  if (await deps.index.get(remote.name, path)) return cached(deps, req);
  if (remote.cache.negativeTtl > 0 && (await deps.coord.get(coordKeys.negative(remote.name, path)))) {
    deps.metrics.count(labels, 'negative');
    throw new ApiError('NOT_FOUND', `${path} does not exist upstream (remembered)`);
  }
  return sharedProbe(deps, req, () => probeUpstream(deps, req, format));
}

type UpstreamProbe = Extract<ProbeResult, { source: 'upstream' }>;

/**
 * Upstream probes in flight, per engine: keyed by the engine's upstream
 * client (each engine wraps its own), so engines in one process (a test's
 * replicas) never share a probe; then by `flightKey(remote, path)`.
 */
const probesInFlight = new WeakMap<Upstream, Map<string, Promise<UpstreamProbe>>>();

/**
 * Join the probe of (remote, path) in flight, or start one with `run`. The
 * entry goes as soon as the probe settles, success or failure, so a probe is
 * never reused beyond its flight: the next one asks the upstream again. This
 * is in-process only (a probe stores nothing other replicas could wait on),
 * and separate from the fills' SingleFlight: a GET never joins a HEAD.
 * Joiners get the very same result object (read it, never change it) or
 * error, and the flight's metrics are counted once.
 */
function sharedProbe(
  deps: ProbeDeps,
  req: CacheRequest,
  run: () => Promise<UpstreamProbe>,
): Promise<UpstreamProbe> {
  let flights = probesInFlight.get(deps.upstream);
  if (!flights) {
    flights = new Map();
    probesInFlight.set(deps.upstream, flights);
  }
  const key = flightKey(req.remote.name, req.path);
  const joined = flights.get(key);
  if (joined) return joined;
  const flight = run().finally(() => {
    if (flights.get(key) === flight) flights.delete(key);
  });
  flights.set(key, flight);
  return flight;
}

/** One upstream HEAD of (remote, path), with the fill's bookkeeping: health, remembered 404s, quarantine. */
async function probeUpstream(deps: ProbeDeps, req: CacheRequest, format: Format): Promise<UpstreamProbe> {
  const { remote, path } = req;
  const labels = { remote: remote.name, package: remote.package };
  const res = await upstreamHead(deps, req, format);
  res.body.resume();
  if (res.status >= 500) deps.health.record(remote.name, false, `upstream answered ${res.status}`);
  else deps.health.record(remote.name, true);
  if (res.status === 404 || res.status === 410) {
    const ttl = remote.cache.negativeTtl;
    if (ttl > 0) await deps.coord.set(coordKeys.negative(remote.name, path), '1', { ttlMs: ttl * 1000 });
    throw new ApiError('NOT_FOUND', `${path} does not exist upstream`);
  }
  if (res.status !== 200) {
    const message = `upstream of remote ${remote.name} answered ${res.status}`;
    throw new ApiError('UPSTREAM_ERROR', message, { detail: { upstream_status: res.status } });
  }
  const lastModified = res.headers['last-modified'];
  const publishedAt = lastModified ? new Date(lastModified) : undefined;
  const known = publishedAt && !Number.isNaN(publishedAt.getTime()) ? publishedAt : undefined;
  if (known && quarantineApplies(remote, path) && isQuarantined(remote, path, known, deps.now())) {
    deps.metrics.count(labels, 'quarantined');
    throw quarantineError(remote, path, known);
  }
  const length = Number(res.headers['content-length']);
  return {
    source: 'upstream',
    size: Number.isSafeInteger(length) && length >= 0 ? length : undefined,
    contentType: res.headers['content-type'] ?? format.contentType?.(path),
    headers: res.headers,
  };
}

async function cached(deps: ProbeDeps, req: CacheRequest): Promise<ProbeResult> {
  return { source: 'cache', result: await deps.fetch(req) };
}

async function upstreamHead(deps: ProbeDeps, req: CacheRequest, format: Format): Promise<UpstreamResponse> {
  const { remote, path } = req;
  const labels = { remote: remote.name, package: remote.package };
  try {
    const res = await deps.upstream.request({
      remote: remote.name,
      url: format.upstreamUrl(remote, path),
      method: 'HEAD',
      headers: { ...format.upstreamHeaders?.(remote, path) },
      credentials: deps.credentials(remote.name),
      credentialOrigin: remote.baseUrl ? new URL(remote.baseUrl).origin : undefined,
    });
    deps.metrics.upstreamRequests.inc({ ...labels, status: String(res.status) });
    return res;
  } catch (err) {
    deps.metrics.upstreamRequests.inc({ ...labels, status: 'error' });
    const e = toUpstreamError(err, remote.name);
    deps.health.record(remote.name, false, e.message);
    throw upstreamApiError(e);
  }
}
