import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from '../http/logger.ts';
import type {
  BlobInfo,
  BlobStore,
  GetOptions,
  GetResult,
  PartInfo,
  PutOptions,
  PutResult,
  StoreMaintenance,
} from './blob-store.ts';
import { NotFoundError, RangeNotSatisfiableError, StorageError } from './errors.ts';
import { copyLarge, copySource, objectKey, type S3Context, s3Code, s3Status } from './s3-context.ts';
import { S3Sessions, type UploadInfo } from './s3-multipart.ts';
import { putObject } from './s3-put.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface S3BlobStoreOptions {
  /** S3-compatible endpoint URL; omitted for AWS S3 itself. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Static credentials; when absent the SDK's default chain applies (env, web identity, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which S3-compatible servers need. */
  forcePathStyle: boolean;
  /** Key prefix inside the bucket, e.g. `orchard/`; lets several stores share one bucket. Default ''. */
  prefix?: string;
  /** Smallest part of multipart puts (default 8 MiB); also the largest object sent in one PutObject. */
  partSize?: number;
  /** Parts of one put uploaded concurrently (default 4); memory use is about (this + 1) × part size. */
  partsInFlight?: number;
  /** Objects larger than this are moved with UploadPartCopy instead of CopyObject (default 5 GiB, S3's limit). */
  copyThreshold?: number;
  /** Where parts of unknown length are spooled before upload (default: the OS temp dir). */
  spoolDir?: string;
  /** A preconfigured client, for tests; the connection options above are then ignored. */
  client?: S3Client;
  /** Receives the SDK's own warnings (at debug level: they follow aborts Orchard makes on purpose). */
  logger?: Logger;
}

/**
 * Objects in an S3 bucket. Atomicity comes from S3 itself: PutObject and
 * CompleteMultipartUpload publish whole objects. Bodies are streamed, never
 * held whole: small objects of known size go out in one PutObject whose last
 * chunk is withheld until size and digest check out (an incomplete request is
 * never stored); others go up as a multipart upload that is aborted on any
 * failure, so nothing becomes visible. Multipart sessions are S3 multipart
 * uploads, so they survive restarts and are shared by replicas.
 */
export class S3BlobStore implements BlobStore {
  readonly maintenance: StoreMaintenance = { listUploads: (prefix) => this.listUploads(prefix) };
  readonly name = 's3';
  private readonly ctx: S3Context;
  private readonly sessions: S3Sessions;
  private readonly ownsClient: boolean;

  constructor(opts: S3BlobStoreOptions) {
    this.ownsClient = !opts.client;
    const client =
      opts.client ??
      new S3Client({
        region: opts.region,
        endpoint: opts.endpoint,
        forcePathStyle: opts.forcePathStyle,
        credentials:
          opts.accessKeyId && opts.secretAccessKey
            ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey }
            : undefined,
        // Orchard verifies sha256 itself; the SDK's default CRC trailers (aws-chunked
        // bodies) are not understood by every S3-compatible server.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
        logger: sdkLogger(opts.logger),
      });
    this.ctx = {
      client,
      bucket: opts.bucket,
      prefix: opts.prefix ?? '',
      backend: this.name,
      partSize: Math.max(opts.partSize ?? 8 * MiB, 5 * MiB),
      partsInFlight: Math.max(1, opts.partsInFlight ?? 4),
      copyThreshold: opts.copyThreshold ?? 5 * GiB,
      spoolDir: opts.spoolDir,
    };
    this.sessions = new S3Sessions(this.ctx);
  }

  put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    return putObject(this.ctx, key, body, opts);
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    const range = opts.range;
    let res: GetObjectCommandOutput;
    try {
      res = await this.ctx.client.send(
        new GetObjectCommand({
          Bucket: this.ctx.bucket,
          Key: objectKey(this.ctx, key),
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
      );
    } catch (err) {
      if (s3Status(err) === 416 || s3Code(err) === 'InvalidRange') {
        const info = await this.stat(key);
        if (!info) throw new NotFoundError({ key, backend: this.name });
        throw new RangeNotSatisfiableError({ key, backend: this.name, size: info.size });
      }
      throw this.mapNotFound(err, key);
    }
    const body = res.Body as Readable;
    if (!range) return { body, size: res.ContentLength ?? 0 };
    const served = parseContentRange(res.ContentRange);
    const size = served?.size ?? res.ContentLength ?? 0;
    // Some servers answer a range on an empty object with 200 or with `bytes 0-0/0`.
    if (range.start >= size) {
      body.destroy();
      throw new RangeNotSatisfiableError({ key, backend: this.name, size });
    }
    if (!served) {
      body.destroy();
      throw new StorageError(`${this.name}: the server ignored the Range header for ${key}`, {
        key,
        backend: this.name,
      });
    }
    return { body, size, range: { start: served.start, end: served.end } };
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const res = await this.ctx.client.send(
        new HeadObjectCommand({ Bucket: this.ctx.bucket, Key: objectKey(this.ctx, key) }),
      );
      return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0) };
    } catch (err) {
      if (this.mapNotFound(err, key) instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.ctx.client.send(
      new DeleteObjectCommand({ Bucket: this.ctx.bucket, Key: objectKey(this.ctx, key) }),
    );
  }

  async move(from: string, to: string): Promise<void> {
    const info = await this.stat(from);
    if (!info) throw new NotFoundError({ key: from, backend: this.name });
    if (from === to) return;
    try {
      if (info.size > this.ctx.copyThreshold) await copyLarge(this.ctx, from, to, info.size);
      else {
        await this.ctx.client.send(
          new CopyObjectCommand({
            Bucket: this.ctx.bucket,
            Key: objectKey(this.ctx, to),
            CopySource: copySource(this.ctx, from),
          }),
        );
      }
    } catch (err) {
      throw this.mapNotFound(err, from);
    }
    await this.delete(from);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      const page = await this.ctx.client.send(
        new ListObjectsV2Command({
          Bucket: this.ctx.bucket,
          Prefix: this.ctx.prefix + prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        yield {
          key: o.Key.slice(this.ctx.prefix.length),
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  createMultipart(key: string): Promise<string> {
    return this.sessions.create(key);
  }

  putPart(
    key: string,
    uploadId: string,
    n: number,
    body: Readable,
    opts: { size?: number } = {},
  ): Promise<PartInfo> {
    return this.sessions.putPart(key, uploadId, n, body, opts.size);
  }

  listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    return this.sessions.listParts(key, uploadId);
  }

  completeMultipart(key: string, uploadId: string, partNumbers: number[]): Promise<{ size: number }> {
    return this.sessions.complete(key, uploadId, partNumbers);
  }

  abortMultipart(key: string, uploadId: string): Promise<void> {
    return this.sessions.abort(key, uploadId);
  }

  /** Open multipart uploads whose key starts with `prefix`, for garbage collection. */
  listUploads(prefix = ''): AsyncIterable<UploadInfo> {
    return this.sessions.list(prefix);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.ctx.client.destroy();
  }

  private mapNotFound(err: unknown, key: string): unknown {
    const code = s3Code(err);
    if (code === 'NoSuchKey' || code === 'NotFound' || (s3Status(err) === 404 && code !== 'NoSuchBucket')) {
      return new NotFoundError({ key, backend: this.name });
    }
    return err;
  }
}

/** The SDK logs to the console unless given a logger; its warnings are about requests we aborted. */
function sdkLogger(logger: Logger | undefined) {
  const drop = () => {};
  const text = (args: unknown[]) => `s3 sdk: ${args.join(' ')}`;
  return {
    trace: drop,
    debug: drop,
    info: drop,
    warn: (...args: unknown[]) => logger?.debug(text(args)),
    error: (...args: unknown[]) => logger?.warn(text(args)),
  };
}

function parseContentRange(
  header: string | undefined,
): { start: number; end: number; size: number } | undefined {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header) : null;
  return m ? { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) } : undefined;
}
