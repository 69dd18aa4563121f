import type { Readable } from 'node:stream';
import { Histogram, type Registry } from 'prom-client';
import type {
  BlobInfo,
  BlobStore,
  FileStaging,
  GetOptions,
  GetResult,
  PartInfo,
  PutOptions,
  PutResult,
  StoreMaintenance,
} from './blob-store.ts';
import {
  DigestMismatchError,
  InvalidArgumentError,
  InvalidKeyError,
  NotFoundError,
  RangeNotSatisfiableError,
  StorageError,
} from './errors.ts';
import { checkKey, checkPrefix } from './keys.ts';

/**
 * The one layer every backend is wrapped in (after distribution's
 * storage/driver/base): it validates keys and arguments before the backend sees
 * them, times every operation into
 * `orchard_storage_operation_duration_seconds{backend,operation,result}`, and
 * stamps the backend name on every error, wrapping foreign errors (SDK, fs) in
 * a `StorageError` so callers only ever see typed storage errors.
 *
 * Errors raised by a body stream after `get` resolved are not rewritten.
 */
export function wrapBlobStore(store: BlobStore, opts: { registry: Registry }): BlobStore {
  return new BaseBlobStore(store, operationHistogram(opts.registry));
}

export const OPERATION_METRIC = 'orchard_storage_operation_duration_seconds';
export const MAX_PART_NUMBER = 10_000;
const SHA256_HEX = /^[0-9a-f]{64}$/;

type Result =
  | 'ok'
  | 'not_found'
  | 'invalid_key'
  | 'invalid_argument'
  | 'digest_mismatch'
  | 'range_not_satisfiable'
  | 'error';

function operationHistogram(registry: Registry): Histogram<'backend' | 'operation' | 'result'> {
  const existing = registry.getSingleMetric(OPERATION_METRIC);
  if (existing) return existing as Histogram<'backend' | 'operation' | 'result'>;
  return new Histogram({
    name: OPERATION_METRIC,
    help: 'Duration of blob store operations; for get, until the body stream is open.',
    labelNames: ['backend', 'operation', 'result'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
}

class BaseBlobStore implements BlobStore {
  readonly name: string;
  private readonly inner: BlobStore;
  private readonly histogram: Histogram<'backend' | 'operation' | 'result'>;
  readonly staging?: FileStaging;
  readonly maintenance?: StoreMaintenance;

  constructor(inner: BlobStore, histogram: Histogram<'backend' | 'operation' | 'result'>) {
    this.inner = inner;
    this.name = inner.name;
    this.histogram = histogram;
    const upkeep = inner.maintenance;
    if (upkeep) {
      const remove = upkeep.removeStaleTemp;
      this.maintenance = {
        listUploads: (prefix) => upkeep.listUploads(prefix),
        removeStaleTemp:
          remove &&
          ((maxAgeMs, now) => this.run('remove_stale_temp', '', () => remove.call(upkeep, maxAgeMs, now))),
      };
    }
    const staging = inner.staging;
    if (staging) {
      this.staging = {
        path: () => this.run('staging_path', '', () => staging.path()),
        adopt: (path, key) =>
          this.run('adopt', key, () => {
            this.checkKey(key);
            return staging.adopt(path, key);
          }),
      };
    }
  }

  put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    return this.run('put', key, () => {
      this.beforeConsuming(body, () => {
        this.checkKey(key);
        if (opts.size !== undefined) this.checkCount(key, 'size', opts.size, 0);
        if (opts.expectedSha256 !== undefined && !SHA256_HEX.test(opts.expectedSha256)) {
          throw this.invalid(key, 'expectedSha256 is not 64 lowercase hex digits');
        }
      });
      return this.inner.put(key, body, opts);
    });
  }

  get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    return this.run('get', key, () => {
      this.checkKey(key);
      if (opts.range) {
        const { start, end } = opts.range;
        this.checkCount(key, 'range start', start, 0);
        if (end !== undefined) this.checkCount(key, 'range end', end, start);
      }
      return this.inner.get(key, opts);
    });
  }

  stat(key: string): Promise<BlobInfo | undefined> {
    return this.run('stat', key, () => {
      this.checkKey(key);
      return this.inner.stat(key);
    });
  }

  delete(key: string): Promise<void> {
    return this.run('delete', key, () => {
      this.checkKey(key);
      return this.inner.delete(key);
    });
  }

  move(from: string, to: string): Promise<void> {
    return this.run('move', from, () => {
      this.checkKey(from);
      this.checkKey(to);
      return this.inner.move(from, to);
    });
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    const end = this.histogram.startTimer({ backend: this.name, operation: 'list' });
    let result: Result = 'ok';
    try {
      const problem = checkPrefix(prefix);
      if (problem) throw new InvalidKeyError({ key: String(prefix), backend: this.name, reason: problem });
      yield* this.inner.list(prefix);
    } catch (err) {
      const stamped = this.stamp(err, 'list', String(prefix));
      result = resultOf(stamped);
      throw stamped;
    } finally {
      end({ result });
    }
  }

  createMultipart(key: string): Promise<string> {
    return this.run('create_multipart', key, () => {
      this.checkKey(key);
      return this.inner.createMultipart(key);
    });
  }

  putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    opts: { size?: number } = {},
  ): Promise<PartInfo> {
    return this.run('put_part', key, () => {
      this.beforeConsuming(body, () => {
        this.checkSession(key, uploadId);
        this.checkPartNumber(key, partNumber);
        if (opts.size !== undefined) this.checkCount(key, 'size', opts.size, 0);
      });
      return this.inner.putPart(key, uploadId, partNumber, body, opts);
    });
  }

  listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    return this.run('list_parts', key, () => {
      this.checkSession(key, uploadId);
      return this.inner.listParts(key, uploadId);
    });
  }

  completeMultipart(key: string, uploadId: string, partNumbers: number[]): Promise<{ size: number }> {
    return this.run('complete_multipart', key, () => {
      this.checkSession(key, uploadId);
      if (!Array.isArray(partNumbers) || partNumbers.length === 0)
        throw this.invalid(key, 'no parts to complete');
      partNumbers.forEach((n, i) => {
        this.checkPartNumber(key, n);
        // S3 requires ascending part numbers; the rule applies to every backend.
        if (i > 0 && n <= partNumbers[i - 1])
          throw this.invalid(key, 'part numbers must be strictly ascending');
      });
      return this.inner.completeMultipart(key, uploadId, partNumbers);
    });
  }

  abortMultipart(key: string, uploadId: string): Promise<void> {
    return this.run('abort_multipart', key, () => {
      this.checkSession(key, uploadId);
      return this.inner.abortMultipart(key, uploadId);
    });
  }

  close(): Promise<void> {
    return this.run('close', '', () => this.inner.close());
  }

  private async run<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    const end = this.histogram.startTimer({ backend: this.name, operation });
    try {
      const value = await fn();
      end({ result: 'ok' });
      return value;
    } catch (err) {
      const stamped = this.stamp(err, operation, key);
      end({ result: resultOf(stamped) });
      throw stamped;
    }
  }

  private stamp(err: unknown, operation: string, key: string): StorageError {
    if (err instanceof StorageError) {
      err.backend = this.name;
      return err;
    }
    const message = err instanceof Error ? err.message : String(err);
    return new StorageError(`${this.name}: ${operation} ${JSON.stringify(key)} failed: ${message}`, {
      key,
      backend: this.name,
      cause: err,
    });
  }

  /** Backends consume or destroy the body in every case; a rejected call must too. */
  private beforeConsuming(body: Readable, check: () => void): void {
    try {
      check();
    } catch (err) {
      body.destroy();
      throw err;
    }
  }

  private checkKey(key: string): void {
    const problem = checkKey(key);
    if (problem) throw new InvalidKeyError({ key: String(key), backend: this.name, reason: problem });
  }

  private checkSession(key: string, uploadId: string): void {
    this.checkKey(key);
    if (typeof uploadId !== 'string' || uploadId === '') throw this.invalid(key, 'empty upload id');
  }

  private checkPartNumber(key: string, n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) {
      throw this.invalid(key, `part number ${n} is not an integer from 1 to ${MAX_PART_NUMBER}`);
    }
  }

  private checkCount(key: string, what: string, n: number, min: number): void {
    if (!Number.isSafeInteger(n) || n < min)
      throw this.invalid(key, `${what} ${n} is not an integer >= ${min}`);
  }

  private invalid(key: string, reason: string): InvalidArgumentError {
    return new InvalidArgumentError({ key, backend: this.name, reason });
  }
}

function resultOf(err: StorageError): Result {
  if (err instanceof NotFoundError) return 'not_found';
  if (err instanceof InvalidKeyError) return 'invalid_key';
  if (err instanceof InvalidArgumentError) return 'invalid_argument';
  if (err instanceof DigestMismatchError) return 'digest_mismatch';
  if (err instanceof RangeNotSatisfiableError) return 'range_not_satisfiable';
  return 'error';
}
