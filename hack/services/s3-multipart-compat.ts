/**
 * Fills the multipart gaps of s3rver 3.7, which otherwise answers MethodNotAllowed or
 * a 500, with S3's documented behaviour, so the s3 BlobStore can be tested as it will
 * run against real S3:
 * - AbortMultipartUpload (DELETE ?uploadId): removes the upload and its parts, 204.
 * - ListParts (GET ?uploadId): the uploaded parts with number, ETag and size.
 * - UploadPart and CompleteMultipartUpload on an unknown or aborted upload: 404 NoSuchUpload
 *   (s3rver would recreate the upload, or fail with a 500).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
 * These requests are not signature-checked: this is a test server.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** Where s3rver keeps one multipart upload: <directory>/<bucket>/._S3rver_uploads/<uploadId>. */
function uploadDir(directory: string, bucket: string, uploadId: string): string {
  return join(directory, bucket, '._S3rver_uploads', uploadId);
}

/**
 * Handles the request if it is one of the operations above and returns true; returns
 * false for everything else, which the caller passes on to s3rver.
 */
export async function handleMultipartCompat(
  directory: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://s3.invalid');
  const uploadId = url.searchParams.get('uploadId');
  const m = /^\/([^/]+)\/(.+)$/.exec(url.pathname);
  if (!uploadId || !m || !['GET', 'PUT', 'POST', 'DELETE'].includes(req.method ?? '')) return false;
  const bucket = decodeURIComponent(m[1]);
  const key = decodeURIComponent(m[2]);
  if (!/^[0-9a-f]+$/.test(uploadId)) return reply(res, 404, noSuchUpload(uploadId));
  const dir = uploadDir(directory, bucket, uploadId);
  const known = existsSync(join(dir, 'key')) && (await readFile(join(dir, 'key'), 'utf8')) === key;
  if (!known) {
    req.resume();
    return reply(res, 404, noSuchUpload(uploadId));
  }
  if (req.method === 'DELETE') {
    await rm(dir, { recursive: true, force: true });
    return reply(res, 204, '');
  }
  if (req.method === 'GET')
    return reply(res, 200, await listParts(dir, bucket, key, uploadId, url.searchParams));
  return false;
}

async function listParts(
  dir: string,
  bucket: string,
  key: string,
  uploadId: string,
  q: URLSearchParams,
): Promise<string> {
  const marker = Number(q.get('part-number-marker') ?? 0);
  const maxParts = Math.min(Number(q.get('max-parts') ?? 1000), 1000);
  const numbers = (await readdir(dir))
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .filter((n) => n > marker)
    .sort((a, b) => a - b);
  const page = numbers.slice(0, maxParts);
  const parts = await Promise.all(
    page.map(async (n) => {
      const [st, md5] = await Promise.all([
        stat(join(dir, String(n))),
        readFile(join(dir, `${n}.md5`), 'utf8'),
      ]);
      return (
        `<Part><PartNumber>${n}</PartNumber><LastModified>${st.mtime.toISOString()}</LastModified>` +
        `<ETag>&quot;${md5.trim()}&quot;</ETag><Size>${st.size}</Size></Part>`
      );
    }),
  );
  const truncated = numbers.length > page.length;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId>` +
    `<PartNumberMarker>${marker}</PartNumberMarker>` +
    `<NextPartNumberMarker>${page.at(-1) ?? 0}</NextPartNumberMarker>` +
    `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
    `<StorageClass>STANDARD</StorageClass>${parts.join('')}</ListPartsResult>`
  );
}

function noSuchUpload(uploadId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
    '<Message>The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.</Message>' +
    `<UploadId>${xml(uploadId)}</UploadId></Error>`
  );
}

function reply(res: ServerResponse, status: number, body: string): true {
  res.writeHead(status, body ? { 'content-type': 'application/xml' } : {});
  res.end(body);
  return true;
}

function xml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
