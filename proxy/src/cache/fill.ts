import type { Lock } from '../coord/coordinator.ts';
import type { ExpectedDigest } from '../formats/index.ts';
import { ApiError } from '../http/errors.ts';
import { safeUrl, toUpstreamError, type UpstreamError } from '../upstream/errors.ts';
import type { UpstreamResponse } from '../upstream/upstream.ts';
import { fillBody } from './fill-body.ts';
import {
  discard,
  drain,
  type FillDeps,
  type FillJob,
  type FillRun,
  fail,
  parseHttpDate,
  readLimited,
  refreshEntry,
} from './fill-run.ts';
import { coordKeys } from './keys.ts';
import { quarantineRelease } from './quarantine.ts';
import type { FillHandle, FillOutcome, FillStart } from './types.ts';

const outcomeTtlMs = 10 * 60_000;

/**
 * Lead one fill: the caller holds the fill lock. The lease is renewed while the
 * fill runs; the outcome is recorded and published and the lock released when
 * it ends, whatever happens. See `runFill` for the steps.
 */
export function startFill(deps: FillDeps, job: FillJob, lock: Lock): FillHandle {
  const abort = new AbortController();
  let resolveStarted!: (s: FillStart) => void;
  const started = new Promise<FillStart>((r) => {
    resolveStarted = r;
  });
  let spoolRelease: (() => void) | undefined;
  const run: FillRun = {
    deps,
    job,
    lock,
    labels: { remote: job.remote.name, package: job.remote.package },
    startedAt: deps.clock.now(),
    signal: abort.signal,
    resolve: (s) => {
      if (s.kind === 'stream') spoolRelease = () => s.spool.release();
      resolveStarted(s);
    },
  };
  const renew = setInterval(
    () => {
      lock.renew().then(
        (ok) =>
          ok ||
          deps.logger.warn('fill lease lost; a later commit will be fenced', { remote: job.remote.name }),
        () => {},
      );
    },
    Math.max(50, Math.floor(deps.leaseMs / 3)),
  );
  renew.unref();

  const done = (async () => {
    let outcome: Omit<FillOutcome, 'seq'>;
    try {
      outcome = await runFill(run);
    } catch (err) {
      deps.logger.error('cache fill failed', {
        remote: job.remote.name,
        path: job.path,
        error: err as Error,
      });
      run.resolve({ kind: 'error', error: new ApiError('INTERNAL', undefined, { cause: err }) });
      outcome = { kind: 'aborted' };
    } finally {
      clearInterval(renew);
    }
    await publishOutcome(deps, job, lock, outcome).catch((err) =>
      deps.logger.warn('could not publish fill outcome', {
        remote: job.remote.name,
        error: (err as Error).message,
      }),
    );
  })();
  return { started, done, dispose: () => spoolRelease?.(), abort: () => abort.abort() };
}

async function publishOutcome(
  deps: FillDeps,
  job: FillJob,
  lock: Lock,
  o: Omit<FillOutcome, 'seq'>,
): Promise<void> {
  const { remote, path } = job;
  try {
    await deps.coord.set(coordKeys.outcome(remote.name, path), JSON.stringify({ ...o, seq: lock.token }), {
      ttlMs: outcomeTtlMs,
    });
  } finally {
    await lock.release().catch(() => {});
  }
  await deps.coord.publish(coordKeys.fillChannel(remote.name, path), o.kind);
}

/**
 * 0. re-check: another replica may have committed just before the lock;
 * 1. find the expected digest (path, index hint, or checksum sidecar);
 * 2. send the (possibly conditional) upstream request;
 * 3. 304 → refresh; 404/410 → negative cache; other non-200 → error or stale;
 * 4. quarantine by Last-Modified when no index gave a publish date;
 * 5. stream the body through the spool into the store and commit (fill-body.ts).
 */
async function runFill(run: FillRun): Promise<Omit<FillOutcome, 'seq'>> {
  const { deps, job } = run;
  const { remote, format, path } = job;
  // Another replica may have committed between this request's lookup and our lock.
  if (await job.alreadyFresh()) {
    run.resolve({ kind: 'stored', result: 'miss' });
    return { kind: 'stored' };
  }
  job.hint ??= format.digestFromPath?.(path) ? undefined : await deps.hints.get(remote.name, path);
  const expected = format.digestFromPath?.(path) ?? job.hint?.digest ?? (await fetchSidecarDigest(run));
  const url = format.upstreamUrl(remote, path);
  const headers: Record<string, string> = { ...format.upstreamHeaders?.(remote, path) };
  if (job.conditional && job.previous?.etag) headers['if-none-match'] = job.previous.etag;
  if (job.conditional && job.previous?.lastModified) headers['if-modified-since'] = job.previous.lastModified;

  let res: UpstreamResponse;
  try {
    res = await upstreamGet(run, url, headers);
  } catch (err) {
    const e = toUpstreamError(err, remote.name);
    deps.health.record(remote.name, false, e.message);
    return fail(run, e.kind === 'protocol' ? undefined : 'network', upstreamApiError(e), e.message);
  }
  if (res.status >= 500) deps.health.record(remote.name, false, `upstream answered ${res.status}`);
  else deps.health.record(remote.name, true);

  if (res.status === 304 && job.conditional && job.previous) {
    drain(res.body);
    await refreshEntry(run, job.previous);
    run.resolve({ kind: 'stored', result: 'revalidated' });
    return { kind: 'stored' };
  }
  if (res.status === 404 || res.status === 410) {
    drain(res.body);
    return notFound(run);
  }
  if (res.status !== 200) {
    drain(res.body);
    const staleClass = res.status === 429 ? '429' : res.status >= 500 ? '5xx' : undefined;
    const message = `upstream of remote ${remote.name} answered ${res.status}`;
    return fail(
      run,
      staleClass,
      new ApiError('UPSTREAM_ERROR', message, { detail: { upstream_status: res.status } }),
      message,
    );
  }
  const publishedAt = job.hint?.publishedAt ?? parseHttpDate(res.headers['last-modified']);
  if (job.quarantined && publishedAt && quarantineRelease(remote, publishedAt) > deps.clock.now()) {
    discard(res.body);
    if (!job.hint?.publishedAt) await deps.hints.putPublished(remote.name, path, publishedAt);
    run.resolve({ kind: 'quarantined', publishedAt });
    return { kind: 'quarantined', publishedAt: publishedAt.toISOString() };
  }
  return fillBody(run, { res, url: safeUrl(res.url), expected, publishedAt });
}

function upstreamGet(run: FillRun, url: string, headers: Record<string, string>): Promise<UpstreamResponse> {
  const { deps, job, labels } = run;
  const remote = job.remote;
  return deps.upstream
    .request({
      remote: remote.name,
      url,
      headers,
      credentials: deps.credentials(remote.name),
      credentialOrigin: remote.baseUrl ? new URL(remote.baseUrl).origin : undefined,
      signal: run.signal,
    })
    .then(
      (res) => {
        deps.metrics.upstreamRequests.inc({ ...labels, status: String(res.status) });
        return res;
      },
      (err) => {
        deps.metrics.upstreamRequests.inc({ ...labels, status: 'error' });
        throw err;
      },
    );
}

async function notFound(run: FillRun): Promise<Omit<FillOutcome, 'seq'>> {
  const { deps, job } = run;
  const ttl = job.remote.cache.negativeTtl;
  if (ttl > 0)
    await deps.coord.set(coordKeys.negative(job.remote.name, job.path), '1', { ttlMs: ttl * 1000 });
  // The upstream no longer has it: a copy we still hold must not outlive that.
  if (job.previous) await deps.index.delete(job.remote.name, job.path);
  run.resolve({ kind: 'not-found' });
  return { kind: 'not-found' };
}

/** The client-facing error for an upstream that failed before answering (fills and probes). */
export function upstreamApiError(e: UpstreamError): ApiError {
  if (e.kind === 'timeout') return new ApiError('UPSTREAM_TIMEOUT', e.message);
  if (e.kind === 'network') return new ApiError('UPSTREAM_UNREACHABLE', e.message);
  return new ApiError('UPSTREAM_ERROR', e.message);
}

/** The sidecar digest (generic `.sha256`), or undefined when there is none or it cannot be read. */
async function fetchSidecarDigest(run: FillRun): Promise<ExpectedDigest | undefined> {
  const source = run.job.format.checksumSource?.(run.job.remote, run.job.path);
  if (!source) return undefined;
  try {
    const res = await upstreamGet(run, source.url, {});
    if (res.status !== 200) {
      drain(res.body);
      return undefined;
    }
    const body = await readLimited(res.body, 64 * 1024);
    const hex = source.parse(body.toString('utf8'));
    return hex ? { algorithm: source.algorithm, hex } : undefined;
  } catch (err) {
    run.deps.logger.debug('checksum sidecar unavailable', {
      remote: run.job.remote.name,
      error: (err as Error).message,
    });
    return undefined;
  }
}
