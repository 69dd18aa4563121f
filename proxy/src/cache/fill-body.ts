import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExpectedDigest, IndexHandler } from '../formats/index.ts';
import { ApiError } from '../http/errors.ts';
import { type BlobStore, blobKey } from '../storage/blob-store.ts';
import { toUpstreamError } from '../upstream/errors.ts';
import type { UpstreamResponse } from '../upstream/upstream.ts';
import type { CacheEntry } from './entries.ts';
import { discard, type FillRun, fail, readLimited, setFresh } from './fill-run.ts';
import { DigestingTransform, IntegrityError, sha256Hex, verifyBuffer } from './hashing.ts';
import { coordKeys } from './keys.ts';
import { isQuarantined } from './quarantine.ts';
import { Spool } from './spool.ts';
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

/**
 * Stream-through: upstream → (verifier) → spool; the clients and the store
 * each read the spool at their own pace. The store writes straight to the
 * final key when the sha256 is known up front (and skips the write when that
 * blob already exists), else to a temporary key moved into place under the
 * sha256 the store computed while writing: the body is hashed here only when
 * it has a published digest to verify before the last byte is released.
 */
async function fillStream(run: FillRun, input: BodyInput, contentType: string): Promise<Outcome> {
  const { deps, job, labels } = run;
  const { res } = input;
  const declared = parseLength(res.headers['content-length']);
  const knownSha = input.expected?.algorithm === 'sha256' ? input.expected.hex.toLowerCase() : undefined;
  let spool: Spool;
  try {
    spool = await Spool.create(deps.spoolDir);
  } catch (err) {
    discard(res.body);
    throw err;
  }
  const storeKey = knownSha ? blobKey(knownSha) : `tmp/cache-fill/${randomUUID()}`;
  const skipStore = knownSha !== undefined && (await deps.blobs.stat(storeKey)) !== undefined;
  const stored = skipStore
    ? spool.settled()
    : // When the store falls behind the window, it catches up in 512 KiB reads.
      deps.blobs.put(storeKey, spool.createReader({ fileChunkBytes: 512 * 1024 }), {
        expectedSha256: knownSha,
        size: declared,
        contentType,
      });
  stored.catch(() => {});
  const meta: StreamMeta = {
    size: declared,
    contentType,
    lastModified: res.headers['last-modified'],
    headers: keptHeaders(res.headers, job.format.keepHeaders),
    digest: knownSha,
  };
  run.resolve({ kind: 'stream', spool, meta });

  const countBytes = (n: number) => deps.metrics.upstreamBytes.inc(labels, n);
  // A verifier only when there is a digest to check before the last byte is released.
  const verifier = input.expected
    ? new DigestingTransform({ expected: input.expected, sha256: false })
    : undefined;
  let received = 0;
  const sink = spool.writable({
    onBytes: (n) => {
      received += n;
      countBytes(n);
    },
  });
  try {
    await (verifier ? pipeline(res.body, verifier, sink) : pipeline(res.body, sink));
    spool.complete();
  } catch (err) {
    spool.fail(err as Error);
    await stored.catch(() => {});
    if (!knownSha) await deps.blobs.delete(storeKey).catch(() => {});
    return bodyFailed(run, err);
  }
  let digest = knownSha;
  try {
    const put = await stored;
    digest ??= put?.sha256;
    if (!digest) throw new Error('the store returned no sha256');
    if (!knownSha) await promote(deps.blobs, storeKey, blobKey(digest));
  } catch (err) {
    deps.logger.error('cache store write failed; nothing committed', {
      remote: job.remote.name,
      path: job.path,
      error: err as Error,
    });
    if (!knownSha) await deps.blobs.delete(storeKey).catch(() => {});
    return { kind: 'aborted' };
  }
  await commit(run, input, { digest, size: received, contentType, headers: meta.headers });
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

/** Move a temporary blob to its content address; when that exists already, just drop the temporary one. */
async function promote(blobs: BlobStore, temp: string, final: string): Promise<void> {
  if ((await blobs.stat(final)) !== undefined) await blobs.delete(temp);
  else await blobs.move(temp, final);
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
