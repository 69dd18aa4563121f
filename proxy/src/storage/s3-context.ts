import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { InvalidKeyError } from './errors.ts';

/** What the S3 backend's modules share. */
export interface S3Context {
  client: S3Client;
  bucket: string;
  /** Prepended to every key inside the bucket. */
  prefix: string;
  backend: string;
  partSize: number;
  partsInFlight: number;
  copyThreshold: number;
  spoolDir?: string;
}

/** S3's limit on the whole key, bucket prefix included. */
const MAX_S3_KEY_BYTES = 1024;

/**
 * The object key in the bucket for `key`. With a bucket prefix a key can pass
 * Orchard's 1024-byte rule and still be too long for S3, hence `InvalidKeyError`.
 */
export function objectKey(ctx: S3Context, key: string): string {
  const full = ctx.prefix + key;
  if (Buffer.byteLength(full, 'utf8') > MAX_S3_KEY_BYTES) {
    throw new InvalidKeyError({
      key,
      backend: ctx.backend,
      reason: `longer than ${MAX_S3_KEY_BYTES} bytes with the bucket prefix ${JSON.stringify(ctx.prefix)}`,
    });
  }
  return full;
}

/** The S3 error code (`NoSuchKey`, `NoSuchUpload`, …); the SDK puts it in `name`. */
export function s3Code(err: unknown): string | undefined {
  return (err as { Code?: string; name?: string } | undefined)?.Code ?? (err as Error | undefined)?.name;
}

export function s3Status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** `bucket/key` for CopySource headers, URL-encoded per segment as S3 requires. */
export function copySource(ctx: S3Context, key: string): string {
  return `${ctx.bucket}/${objectKey(ctx, key).split('/').map(encodeURIComponent).join('/')}`;
}

/** S3 allows at most 10 000 parts of at most 5 GiB each. */
export const MAX_PARTS = 10_000;
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;

/**
 * Copy an object too large for CopyObject (over 5 GiB) with UploadPartCopy:
 * server-side, in ranges, published by CompleteMultipartUpload and aborted on
 * failure so a half-copied object never appears.
 */
export async function copyLarge(ctx: S3Context, from: string, to: string, size: number): Promise<void> {
  const Key = objectKey(ctx, to);
  const created = await ctx.client.send(new CreateMultipartUploadCommand({ Bucket: ctx.bucket, Key }));
  const UploadId = created.UploadId!;
  const partSize = Math.min(MAX_PART_BYTES, Math.max(512 * 1024 * 1024, Math.ceil(size / MAX_PARTS)));
  try {
    const ranges: { n: number; start: number; end: number }[] = [];
    for (let start = 0, n = 1; start < size; start += partSize, n++) {
      ranges.push({ n, start, end: Math.min(size, start + partSize) - 1 });
    }
    const parts: { PartNumber: number; ETag?: string }[] = [];
    for (let i = 0; i < ranges.length; i += ctx.partsInFlight) {
      const batch = ranges.slice(i, i + ctx.partsInFlight);
      const done = await Promise.all(
        batch.map(async ({ n, start, end }) => {
          const res = await ctx.client.send(
            new UploadPartCopyCommand({
              Bucket: ctx.bucket,
              Key,
              UploadId,
              PartNumber: n,
              CopySource: copySource(ctx, from),
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          );
          return { PartNumber: n, ETag: res.CopyPartResult?.ETag };
        }),
      );
      parts.push(...done);
    }
    await ctx.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    await ctx.client
      .send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key, UploadId }))
      .catch(() => {});
    throw err;
  }
}
