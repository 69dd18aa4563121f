/**
 * Replacements for methods of s3rver's FilesystemStore that deviate from S3:
 * s3rver writes objects and parts in place (a reader or a concurrent writer
 * sees partial or interleaved bytes, and a dropped upload leaves a truncated
 * object visible), and completes any multipart upload without checking parts.
 * S3 publishes whole objects only, never stores an incomplete request body, and
 * checks parts on completion; see
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);
export const S3Error = require('s3rver/lib/models/error') as new (
  code: string,
  message: string,
  detail?: Record<string, unknown>,
) => Error;

const { ALLOWED_METADATA } = require('s3rver/lib/models/object') as { ALLOWED_METADATA: string[] };
const MIN_PART_SIZE = 5 * 1024 * 1024;

/** The parts of s3rver's FilesystemStore used here. */
export interface FsStore {
  rootDirectory: string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  [method: string]: unknown;
}

interface ReadObject {
  content: Readable | null;
  range?: { start: number; end: number };
}

interface StoredObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Record<string, unknown>;
}

export function uploadDir(store: FsStore, bucket: string, uploadId: string): string {
  if (!/^[\w-]+$/.test(uploadId)) throw new S3Error('NoSuchUpload', 'The specified upload does not exist.');
  return join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
}

/**
 * Write `source` to a temp file in the bucket, then rename it onto `target`.
 * With `expectedLength` (the request's Content-Length) a short body is refused.
 */
export async function writeAtomically(
  store: FsStore,
  bucket: string,
  target: string,
  source: Readable | Buffer,
  expectedLength?: number,
): Promise<{ size: number; md5: string }> {
  const tmpDir = store.getResourcePath(bucket, undefined, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const tmp = join(tmpDir, randomBytes(12).toString('hex'));
  const md5 = createHash('md5');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      md5.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
    await pipeline(input, counter, createWriteStream(tmp));
    if (expectedLength !== undefined && size !== expectedLength) {
      throw new S3Error(
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length.',
      );
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dirname(target), { recursive: true });
        await rename(tmp, target);
        break;
      } catch (err) {
        // A concurrent delete may prune the directory between mkdir and rename.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 5) throw err;
      }
    }
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  return { size, md5: md5.digest('hex') };
}

function declaredLength(content: unknown): number | undefined {
  if (!(content instanceof IncomingMessage)) return undefined;
  const n = Number(content.headers['content-length']);
  return Number.isInteger(n) ? n : undefined;
}

async function writeSmallFile(store: FsStore, bucket: string, path: string, data: string): Promise<void> {
  await writeAtomically(store, bucket, path, Buffer.from(data));
}

/** Replace the non-atomic FilesystemStore methods with atomic ones. */
export function patchStore(store: FsStore): void {
  const path = (bucket: string, key: string, resource: string) =>
    store.getResourcePath(bucket, key, resource);

  store.putMetadata = async (
    bucket: string,
    key: string,
    metadata: Record<string, unknown>,
    md5?: string,
  ) => {
    const kept = Object.entries(metadata).filter(
      ([k]) => ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-'),
    );
    if (md5) await writeSmallFile(store, bucket, path(bucket, key, 'object.md5'), md5);
    await writeSmallFile(
      store,
      bucket,
      path(bucket, key, 'metadata.json'),
      JSON.stringify(Object.fromEntries(kept)),
    );
  };

  // s3rver reads `Range: bytes=0-0` as `bytes=0-` (`options.end || Infinity`).
  const getObject = (store.getObject as (...a: unknown[]) => Promise<ReadObject | null>).bind(store);
  store.getObject = async (bucket: string, key: string, options?: { start?: number; end?: number }) => {
    const object = await getObject(bucket, key, options);
    if (object?.content && object.range && options?.end === 0) {
      object.content.destroy();
      object.range.end = 0;
      object.content = createReadStream(path(bucket, key, 'object'), { start: 0, end: 0 });
    }
    return object;
  };

  store.putObject = async (object: StoredObject) => {
    const target = path(object.bucket, object.key, 'object');
    const written = await writeAtomically(
      store,
      object.bucket,
      target,
      object.content,
      declaredLength(object.content),
    );
    await (store.putMetadata as (...a: unknown[]) => Promise<void>)(
      object.bucket,
      object.key,
      object.metadata,
      written.md5,
    );
    return written;
  };

  store.copyObject = async (
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacement?: Record<string, unknown>,
  ) => {
    const src = path(srcBucket, srcKey, 'object');
    const dest = path(destBucket, destKey, 'object');
    if (src !== dest) await writeAtomically(store, destBucket, dest, createReadStream(src));
    if (replacement) {
      await (store.putMetadata as (...a: unknown[]) => Promise<void>)(destBucket, destKey, replacement);
    } else if (src !== dest) {
      for (const resource of ['metadata.json', 'object.md5']) {
        const data = await readFile(path(srcBucket, srcKey, resource), 'utf8').catch(() => undefined);
        if (data !== undefined)
          await writeSmallFile(store, destBucket, path(destBucket, destKey, resource), data);
      }
    }
    return store.getMetadata(destBucket, destKey);
  };

  store.deleteObject = async (bucket: string, key: string) => {
    for (const resource of ['object', 'object.md5', 'metadata.json']) {
      await unlink(path(bucket, key, resource)).catch(() => {});
    }
    // Prune emptied directories, tolerating concurrent writers and deleters (s3rver throws on both).
    const bucketPath = join(store.rootDirectory, bucket);
    for (
      let dir = dirname(path(bucket, key, 'object'));
      dir.startsWith(`${bucketPath}/`);
      dir = dirname(dir)
    ) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        ))
      )
        break;
    }
  };

  store.putPart = async (bucket: string, uploadId: string, partNumber: string, content: Readable) => {
    const dir = uploadDir(store, bucket, uploadId);
    const part = join(dir, String(Number(partNumber)));
    const written = await writeAtomically(store, bucket, part, content, declaredLength(content));
    await writeSmallFile(store, bucket, `${part}.md5`, written.md5);
    return written;
  };

  store.putObjectMultipart = async (
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ) => {
    const dir = uploadDir(store, bucket, uploadId);
    const key = await readFile(join(dir, 'key'), 'utf8').catch(() => {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.');
    });
    const metadata = JSON.parse(await readFile(join(dir, 'metadata'), 'utf8'));
    await checkParts(dir, parts);
    const files = parts.map((p) => join(dir, String(p.number)));
    const body = Readable.from(
      (async function* () {
        for (const f of files) yield* createReadStream(f);
      })(),
    );
    const written = await (store.putObject as (o: StoredObject) => Promise<{ size: number; md5: string }>)({
      bucket,
      key,
      content: body,
      metadata,
    });
    await rm(dir, { recursive: true, force: true });
    return written;
  };
}

/** S3's completion rules: ascending numbers, every part present with its ETag, all but the last >= 5 MiB. */
async function checkParts(dir: string, parts: { number: number; etag: string }[]): Promise<void> {
  for (const [i, p] of parts.entries()) {
    if (i > 0 && p.number <= parts[i - 1].number) {
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
    }
    const file = join(dir, String(p.number));
    const [info, md5] = await Promise.all([
      stat(file).catch(() => undefined),
      readFile(`${file}.md5`, 'utf8').catch(() => undefined),
    ]);
    if (!info || md5 !== p.etag)
      throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found.');
    if (i < parts.length - 1 && info.size < MIN_PART_SIZE) {
      throw new S3Error(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
      );
    }
  }
}
