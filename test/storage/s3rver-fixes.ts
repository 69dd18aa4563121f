/**
 * Makes s3rver 3.7 (the only S3-protocol server that runs here) behave as S3
 * does where Orchard's S3 backend depends on it, so the conformance suite tests
 * the backend and not the emulator's gaps:
 *
 * - atomic PutObject/CopyObject/CompleteMultipartUpload, and incomplete request
 *   bodies are never stored (see s3rver-store.ts);
 * - ListParts, AbortMultipartUpload, ListMultipartUploads and UploadPartCopy,
 *   which s3rver answers with MethodNotAllowed/NotImplemented;
 * - UploadPart, CompleteMultipartUpload, ListParts and Abort answer NoSuchUpload
 *   for an unknown upload or one started for another key (s3rver creates the
 *   upload directory on the fly, or fails with 500).
 *
 * Usage, before `server.run()`: `applyS3rverFixes(new S3rver({...}))`.
 * Requests handled here skip s3rver's signature check; the others keep it.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type FsStore, patchStore, S3Error, uploadDir, writeAtomically } from './s3rver-store.ts';

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function applyS3rverFixes(server: unknown): void {
  const s = server as { store: FsStore; middleware: Middleware[] };
  if (!s.store || !Array.isArray(s.middleware)) throw new Error('applyS3rverFixes: not an s3rver instance');
  patchStore(s.store);
  // The router is the last middleware s3rver installs; ours goes right before it,
  // after the one that renders plain-object bodies as XML.
  s.middleware.splice(s.middleware.length - 1, 0, multipartRoutes(s.store));
}

function multipartRoutes(store: FsStore): Middleware {
  return async (ctx, next) => {
    const m = /^\/([^/]+)(?:\/(.*))?$/.exec(ctx.path);
    if (!m) return next();
    const bucket = m[1];
    const key = m[2] ? decodeURIComponent(m[2]) : undefined;
    const q = ctx.query;
    if (key === undefined) {
      if (ctx.method === 'GET' && 'uploads' in q)
        await listUploads(ctx, store, bucket, String(q.prefix ?? ''));
      else await next();
      return;
    }
    if (typeof q.uploadId !== 'string') return next();
    const dir = uploadDir(store, bucket, q.uploadId);
    const owner = await readFile(join(dir, 'key'), 'utf8').catch(() => undefined);
    if (owner !== key)
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: q.uploadId });
    if (ctx.method === 'GET') await listParts(ctx, { bucket, key, uploadId: q.uploadId, dir });
    else if (ctx.method === 'DELETE') {
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
    } else if (ctx.method === 'PUT' && ctx.headers['x-amz-copy-source']) {
      await uploadPartCopy(ctx, store, bucket, join(dir, String(Number(q.partNumber))));
    } else await next();
  };
}

async function listParts(ctx: KoaContext, u: { bucket: string; key: string; uploadId: string; dir: string }) {
  const marker = Number(ctx.query['part-number-marker'] ?? 0);
  const max = Math.min(1000, Number(ctx.query['max-parts'] ?? 1000));
  const numbers = (await readdir(u.dir))
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .filter((n) => n > marker)
    .sort((a, b) => a - b);
  const page = numbers.slice(0, max);
  const parts = [];
  for (const n of page) {
    const file = join(u.dir, String(n));
    const [info, md5] = await Promise.all([stat(file), readFile(`${file}.md5`, 'utf8')]);
    parts.push({
      PartNumber: n,
      LastModified: info.mtime.toISOString(),
      ETag: JSON.stringify(md5),
      Size: info.size,
    });
  }
  const truncated = numbers.length > page.length;
  ctx.body = {
    ListPartsResult: {
      '@': { xmlns: NS },
      Bucket: u.bucket,
      Key: u.key,
      UploadId: u.uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.at(-1) ?? marker,
      MaxParts: max,
      IsTruncated: truncated,
      Part: parts,
    },
  };
}

async function listUploads(ctx: KoaContext, store: FsStore, bucket: string, prefix: string) {
  const root = store.getResourcePath(bucket, undefined, 'uploads');
  const uploads = [];
  for (const uploadId of await readdir(root).catch(() => [] as string[])) {
    const keyFile = join(root, uploadId, 'key');
    const key = await readFile(keyFile, 'utf8').catch(() => undefined);
    if (key === undefined || !key.startsWith(prefix)) continue;
    const info = await stat(keyFile);
    uploads.push({
      Key: key,
      UploadId: uploadId,
      Initiated: info.mtime.toISOString(),
      StorageClass: 'STANDARD',
    });
  }
  uploads.sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
  ctx.body = {
    ListMultipartUploadsResult: {
      '@': { xmlns: NS },
      Bucket: bucket,
      KeyMarker: '',
      UploadIdMarker: '',
      Prefix: prefix,
      MaxUploads: 1000,
      IsTruncated: false,
      Upload: uploads,
    },
  };
}

async function uploadPartCopy(ctx: KoaContext, store: FsStore, bucket: string, partFile: string) {
  const source = decodeURIComponent(String(ctx.headers['x-amz-copy-source'])).replace(/^\//, '');
  const [srcBucket, ...rest] = source.split('/');
  const srcFile = store.getResourcePath(srcBucket, rest.join('/'), 'object');
  const info = await stat(srcFile).catch(() => undefined);
  if (!info) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: rest.join('/') });
  const range = /^bytes=(\d+)-(\d+)$/.exec(String(ctx.headers['x-amz-copy-source-range'] ?? ''));
  const [start, end] = range ? [Number(range[1]), Number(range[2])] : [0, info.size - 1];
  if (start > end || end >= info.size)
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable');
  const written = await writeAtomically(store, bucket, partFile, createReadStream(srcFile, { start, end }));
  await writeAtomically(store, bucket, `${partFile}.md5`, Buffer.from(written.md5));
  ctx.body = {
    CopyPartResult: { LastModified: new Date().toISOString(), ETag: JSON.stringify(written.md5) },
  };
}
