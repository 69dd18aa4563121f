import { pipeline, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { PutOptions, PutResult } from './blob-store.ts';
import { InvalidArgumentError } from './errors.ts';
import { HashingStream } from './hashing.ts';
import { MAX_PART_BYTES, MAX_PARTS, objectKey, type S3Context } from './s3-context.ts';

/**
 * Send `body` through `hashing` into one request made by `send`. If the body
 * fails or a check in `hashing` fails, the request is aborted and that error is
 * thrown. With `holdBack` hashing and a declared Content-Length the server
 * never receives a complete body for bad data, so it stores nothing.
 */
export async function sendStreaming<T>(
  body: Readable,
  hashing: HashingStream,
  send: (stream: Readable, abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  let streamError: unknown;
  pipeline(body, hashing, (err) => {
    if (err) {
      streamError = err;
      abort.abort(err);
    }
  });
  try {
    return await send(hashing, abort.signal);
  } catch (err) {
    hashing.destroy();
    throw streamError ?? err;
  }
}

/** S3 `put`: one streamed PutObject for small declared sizes, else a multipart upload. */
export async function putObject(
  ctx: S3Context,
  key: string,
  body: Readable,
  opts: PutOptions,
): Promise<PutResult> {
  const { size, expectedSha256, contentType } = opts;
  try {
    objectKey(ctx, key);
  } catch (err) {
    body.destroy();
    throw err;
  }
  if (size !== undefined && size > 0 && size <= ctx.partSize) {
    const hashing = new HashingStream({
      expectedSize: size,
      expectedSha256,
      holdBack: true,
      key,
      backend: ctx.backend,
    });
    await sendStreaming(body, hashing, (stream, abortSignal) =>
      ctx.client.send(
        new PutObjectCommand({
          Bucket: ctx.bucket,
          Key: objectKey(ctx, key),
          Body: stream,
          ContentLength: size,
          ContentType: contentType,
        }),
        { abortSignal },
      ),
    );
    return { size, sha256: hashing.sha256 };
  }
  return multipartPut(ctx, key, body, opts);
}

/** The size of part `n` (1-based). */
function partSizeFor(ctx: S3Context, n: number, declared: number | undefined): number {
  if (declared !== undefined) return Math.max(ctx.partSize, Math.ceil(declared / MAX_PARTS));
  // Unknown length: grow every 1000 parts so 10 000 parts reach far beyond 10 000 × partSize.
  return Math.min(MAX_PART_BYTES, ctx.partSize * 2 ** Math.floor((n - 1) / 1000));
}

/**
 * Read the body part by part (buffering at most `partsInFlight + 1` parts),
 * upload parts concurrently, and complete only after the whole body has passed
 * the size/digest checks. Any failure aborts the upload. A body that turns out
 * to fit in one part is sent as a single PutObject instead.
 */
async function multipartPut(
  ctx: S3Context,
  key: string,
  body: Readable,
  opts: PutOptions,
): Promise<PutResult> {
  const Key = objectKey(ctx, key);
  const hashing = new HashingStream({
    expectedSize: opts.size,
    expectedSha256: opts.expectedSha256,
    key,
    backend: ctx.backend,
  });
  pipeline(body, hashing, () => {});
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const parts: { PartNumber: number; ETag?: string }[] = [];
  let failure: unknown;
  let uploadId: string | undefined;
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  let n = 1;

  const upload = async (data: Buffer) => {
    if (n > MAX_PARTS) {
      throw new InvalidArgumentError({ key, backend: ctx.backend, reason: `more than ${MAX_PARTS} parts` });
    }
    uploadId ??= (
      await ctx.client.send(
        new CreateMultipartUploadCommand({ Bucket: ctx.bucket, Key, ContentType: opts.contentType }),
      )
    ).UploadId!;
    const PartNumber = n++;
    const req = ctx.client
      .send(new UploadPartCommand({ Bucket: ctx.bucket, Key, UploadId: uploadId, PartNumber, Body: data }), {
        abortSignal: abort.signal,
      })
      .then((res) => {
        parts.push({ PartNumber, ETag: res.ETag });
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(req));
    inFlight.add(req);
    while (inFlight.size >= ctx.partsInFlight && !failure) await Promise.race(inFlight);
    if (failure) throw failure;
  };

  try {
    for await (const chunk of hashing as AsyncIterable<Buffer>) {
      buffered.push(chunk);
      bufferedBytes += chunk.length;
      for (
        let target = partSizeFor(ctx, n, opts.size);
        bufferedBytes >= target;
        target = partSizeFor(ctx, n, opts.size)
      ) {
        const all = Buffer.concat(buffered);
        buffered = all.length > target ? [all.subarray(target)] : [];
        bufferedBytes = all.length - target;
        await upload(all.subarray(0, target));
      }
    }
    const last = Buffer.concat(buffered);
    if (!uploadId) {
      await ctx.client.send(
        new PutObjectCommand({ Bucket: ctx.bucket, Key, Body: last, ContentType: opts.contentType }),
      );
      return { size: hashing.size, sha256: hashing.sha256 };
    }
    if (last.length > 0) await upload(last);
    await Promise.all(inFlight);
    if (failure) throw failure;
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await ctx.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return { size: hashing.size, sha256: hashing.sha256 };
  } catch (err) {
    abort.abort();
    hashing.destroy();
    await Promise.allSettled(inFlight);
    if (uploadId) {
      await ctx.client
        .send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key, UploadId: uploadId }))
        .catch(() => {});
    }
    throw err;
  }
}
