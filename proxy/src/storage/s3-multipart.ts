import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { PartInfo } from './blob-store.ts';
import { NotFoundError } from './errors.ts';
import { writeTemp } from './fs-files.ts';
import { HashingStream } from './hashing.ts';
import { selectParts } from './multipart.ts';
import { objectKey, type S3Context, s3Code, s3Status } from './s3-context.ts';
import { sendStreaming } from './s3-put.ts';

export interface UploadInfo {
  key: string;
  uploadId: string;
  initiated: Date;
}

/**
 * Multipart sessions as S3 multipart uploads: state lives in the bucket, so
 * any replica can continue a session and a restart loses nothing.
 */
export class S3Sessions {
  private readonly ctx: S3Context;

  constructor(ctx: S3Context) {
    this.ctx = ctx;
  }

  async create(key: string): Promise<string> {
    const res = await this.ctx.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.ctx.bucket, Key: objectKey(this.ctx, key) }),
    );
    return res.UploadId!;
  }

  /**
   * UploadPart needs a Content-Length: a part of declared size streams straight
   * through (last chunk withheld until the length checks out, so a short body
   * never replaces an earlier upload of the part); one of unknown size is
   * spooled to a temp file first.
   */
  async putPart(key: string, uploadId: string, n: number, body: Readable, size?: number): Promise<PartInfo> {
    try {
      objectKey(this.ctx, key);
    } catch (err) {
      body.destroy();
      throw err;
    }
    if (size !== undefined) return this.uploadPart(key, uploadId, n, body, size);
    const dir = await mkdtemp(`${this.ctx.spoolDir ?? tmpdir()}/orchard-s3-part-`);
    try {
      const spooled = await writeTemp(dir, body, { key, backend: this.ctx.backend });
      return await this.uploadPart(key, uploadId, n, createReadStream(spooled.path), spooled.size);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    const parts: PartInfo[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.ctx.client.send(
          new ListPartsCommand({
            Bucket: this.ctx.bucket,
            Key: objectKey(this.ctx, key),
            UploadId: uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const p of page.Parts ?? []) {
          parts.push({ partNumber: p.PartNumber ?? 0, size: p.Size ?? 0, etag: unquote(p.ETag) });
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (err) {
      throw this.mapNoSuchUpload(err, key, uploadId);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async complete(key: string, uploadId: string, partNumbers: number[]): Promise<{ size: number }> {
    const parts = selectParts({
      key,
      backend: this.ctx.backend,
      parts: await this.listParts(key, uploadId),
      partNumbers,
    });
    try {
      await this.ctx.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.ctx.bucket,
          Key: objectKey(this.ctx, key),
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
        }),
      );
    } catch (err) {
      throw this.mapNoSuchUpload(err, key, uploadId);
    }
    return { size: parts.reduce((sum, p) => sum + p.size, 0) };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    try {
      await this.ctx.client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.ctx.bucket,
          Key: objectKey(this.ctx, key),
          UploadId: uploadId,
        }),
      );
    } catch (err) {
      if (this.mapNoSuchUpload(err, key, uploadId) instanceof NotFoundError) return;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<UploadInfo> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.ctx.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.ctx.bucket,
          Prefix: this.ctx.prefix + prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        yield {
          key: u.Key.slice(this.ctx.prefix.length),
          uploadId: u.UploadId,
          initiated: u.Initiated ?? new Date(0),
        };
      }
      [keyMarker, uploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [];
    } while (keyMarker);
  }

  private async uploadPart(
    key: string,
    uploadId: string,
    n: number,
    body: Readable,
    size: number,
  ): Promise<PartInfo> {
    const hashing = new HashingStream({ expectedSize: size, holdBack: true, key, backend: this.ctx.backend });
    try {
      const res = await sendStreaming(body, hashing, (stream, abortSignal) =>
        this.ctx.client.send(
          new UploadPartCommand({
            Bucket: this.ctx.bucket,
            Key: objectKey(this.ctx, key),
            UploadId: uploadId,
            PartNumber: n,
            Body: stream,
            ContentLength: size,
          }),
          { abortSignal },
        ),
      );
      return { partNumber: n, size, etag: unquote(res.ETag) };
    } catch (err) {
      throw this.mapNoSuchUpload(err, key, uploadId);
    }
  }

  private mapNoSuchUpload(err: unknown, key: string, uploadId: string): unknown {
    if (s3Code(err) === 'NoSuchUpload' || s3Status(err) === 404) {
      return new NotFoundError({ key, backend: this.ctx.backend, detail: `upload ${uploadId}` });
    }
    return err;
  }
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}
