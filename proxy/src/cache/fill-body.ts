import { Readable } from 'node:stream';
import type { ExpectedDigest, IndexHandler } from '../formats/index.ts';
import { ApiError } from '../http/errors.ts';
import { blobKey } from '../storage/blob-store.ts';
import { toUpstreamError } from '../upstream/errors.ts';
import type { UpstreamResponse } from '../upstream/upstream.ts';
import type { CacheEntry } from './entries.ts';
import { type FillRun, fail, readLimited, setFresh } from './fill-run.ts';
import { streamBody } from './fill-stream.ts';
import { IntegrityError, sha256Hex, verifyBuffer } from './hashing.ts';
import { coordKeys } from './keys.ts';
import { isQuarantined } from './quarantine.ts';
import type { FillOutcome, StreamMeta } from './types.ts';

type Outcome = Omit<FillOutcome, 'seq'>;

export interface BodyInput {
  res: UpstreamResponse;
  /** The upstream URL for the index row, already stripped of userinfo and query. */
  url: string;
  expected?: ExpectedDigest;
  publishedAt?: Date;
}

/** Largest index document when neither the format nor the remote says. */
const defaultMaxIndexBytes = 64 * 1024 * 1024;

/** Store a 200 body: index documents are rewritten whole, everything else streams. */
export async function fillBody(run: FillRun, input: BodyInput): Promise<Outcome> {
  const { job } = run;
  const upstreamType = input.res.headers['content-type'];
  const contentType = upstreamType ?? job.format.contentType?.(job.path) ?? 'application/octet-stream';
  const handler = job.format.indexHandler?.(job.path, upstreamType);
  return handler ? fillIndex(run, input, handler, contentType) : fillStream(run, input, contentType);
}

/** Stream-through (fill-stream.ts), then commit the entry. */
async function fillStream(run: FillRun, input: BodyInput, contentType: string): Promise<Outcome> {
  const { deps, job } = run;
  const { res } = input;
  const meta: StreamMeta = {
    size: parseLength(res.headers['content-length']),
    contentType,
    lastModified: res.headers['last-modified'],
    headers: keptHeaders(res.headers, job.format.keepHeaders),
    digest: input.expected?.algorithm === 'sha256' ? input.expected.hex.toLowerCase() : undefined,
  };
  const body = await streamBody(run, { body: res.body, expected: input.expected, meta });
  if (!body.ok && body.phase === 'body') return bodyFailed(run, body.error);
  if (!body.ok) {
    deps.logger.error('cache store write failed; nothing committed', {
      remote: job.remote.name,
      path: job.path,
      error: body.error as Error,
    });
    return { kind: 'aborted' };
  }
  await commit(run, input, { digest: body.digest, size: body.size, contentType, headers: meta.headers });
  return { kind: 'stored' };
}

/**
 * Index documents: read whole (bounded), verify, let the format rewrite them
 * ONCE (download URLs back through the proxy, quarantined versions hidden),
 * store the result and its hints. A failure here happens before any byte was
 * sent, so it may still fall back on a stale copy.
 */
async function fillIndex(
  run: FillRun,
  input: BodyInput,
  handler: IndexHandler,
  contentType: string,
): Promise<Outcome> {
  const { deps, job, labels } = run;
  const max = job.remote.options?.maxIndexBytes ?? handler.maxBytes ?? defaultMaxIndexBytes;
  let raw: Buffer;
  try {
    raw = await readLimited(input.res.body, max);
  } catch (err) {
    if (err instanceof ApiError) return reportError(run, err);
    // Nothing was sent yet: a stale copy may still stand in (stale-on-error).
    const e = toUpstreamError(err, job.remote.name);
    deps.health.record(job.remote.name, false, e.message);
    const code = e.kind === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_ERROR';
    return fail(run, e.kind === 'protocol' ? undefined : 'network', new ApiError(code, e.message), e.message);
  }
  deps.metrics.upstreamBytes.inc(labels, raw.length);
  try {
    verifyBuffer(raw, input.expected);
  } catch (err) {
    return bodyFailed(run, err);
  }
  const now = deps.clock.now();
  let out: Awaited<ReturnType<IndexHandler['rewrite']>>;
  try {
    out = await handler.rewrite({
      remote: job.remote,
      path: job.path,
      body: raw,
      contentType: input.res.headers['content-type'],
      proxyBase: job.proxyBase,
      isQuarantined: job.remote.quarantine
        ? (artifactPath, publishedAt) => isQuarantined(job.remote, artifactPath, publishedAt, now)
        : undefined,
    });
  } catch (err) {
    // The upstream sent something the format cannot read: its fault, not ours, and nothing is cached.
    const message = `the upstream index ${job.path} of remote ${job.remote.name} is malformed: ${(err as Error).message}`;
    return reportError(run, err instanceof ApiError ? err : new ApiError('UPSTREAM_ERROR', message));
  }
  const digest = sha256Hex(out.body);
  const key = blobKey(digest);
  const type = out.contentType ?? contentType;
  if ((await deps.blobs.stat(key)) === undefined) {
    await deps.blobs.put(key, Readable.from([out.body]), {
      expectedSha256: digest,
      size: out.body.length,
      contentType: type,
    });
  }
  if (out.hints && out.hints.length > 0) await deps.hints.put(job.remote.name, job.path, out.hints);
  const headers = keptHeaders(input.res.headers, job.format.keepHeaders);
  await commit(run, input, { digest, size: out.body.length, contentType: type, headers });
  run.resolve({ kind: 'stored', result: 'miss' });
  return { kind: 'stored' };
}

async function commit(
  run: FillRun,
  input: BodyInput,
  body: { digest: string; size: number; contentType: string; headers: Record<string, string> },
): Promise<void> {
  const { deps, job, labels, lock } = run;
  const entry: CacheEntry = {
    remote: job.remote.name,
    path: job.path,
    digest: body.digest,
    size: body.size,
    contentType: body.contentType,
    etag: input.res.headers.etag,
    lastModified: input.res.headers['last-modified'],
    upstreamUrl: input.url,
    headers: body.headers,
    mutable: job.mutable,
    publishedAt: input.publishedAt,
    fetchedAt: new Date(run.startedAt),
  };
  if (!(await deps.index.put(entry, lock.token))) {
    deps.logger.warn('cache commit fenced: a newer fill already committed', {
      remote: job.remote.name,
      path: job.path,
    });
  }
  await setFresh(deps, job, body.digest);
  await deps.coord.delete(coordKeys.negative(job.remote.name, job.path));
  deps.metrics.fillDuration.observe(labels, (deps.clock.now() - run.startedAt) / 1000);
}

/** The body failed after streaming began: readers were aborted; record why. */
function bodyFailed(run: FillRun, err: unknown): Outcome {
  const { deps, job, labels } = run;
  if (err instanceof IntegrityError) {
    deps.metrics.integrityFailures.inc(labels);
    deps.logger.error('upstream integrity failure: nothing cached', {
      remote: job.remote.name,
      path: job.path,
      algorithm: err.expected.algorithm,
      expected: err.expected.hex,
      actual: err.actual,
    });
    return reportError(run, new ApiError('UPSTREAM_INTEGRITY', `${job.path}: ${err.message}`));
  }
  if (run.signal.aborted) return { kind: 'aborted' };
  const e = toUpstreamError(err, job.remote.name);
  deps.health.record(job.remote.name, false, e.message);
  deps.logger.warn('upstream body failed: nothing cached', {
    remote: job.remote.name,
    path: job.path,
    error: e.message,
  });
  return reportError(
    run,
    new ApiError(e.kind === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_ERROR', e.message),
  );
}

function reportError(run: FillRun, error: ApiError): Outcome {
  run.resolve({ kind: 'error', error });
  return { kind: 'error', code: error.code, message: error.message };
}

function keptHeaders(
  headers: Record<string, string>,
  keep: readonly string[] | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of keep ?? []) {
    const v = headers[name.toLowerCase()];
    if (v !== undefined) out[name.toLowerCase()] = v;
  }
  return out;
}

function parseLength(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}
