/**
 * Child-process entry point for the test S3 server: `node s3-server.ts <dir> <bucket>`.
 * Serves s3rver on 127.0.0.1 and a kernel-chosen port with the bucket created, and
 * with test/storage/s3rver-fixes.ts applied: those make s3rver behave as S3 where the
 * s3 BlobStore depends on it (atomic writes, ListParts, AbortMultipartUpload,
 * ListMultipartUploads, UploadPartCopy, NoSuchUpload). Prints `S3RVER_READY <port>`
 * once it accepts requests; exits on SIGTERM or SIGINT.
 * A separate process keeps s3rver off the test runner's event loop and lets every
 * vitest worker reach it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { applyS3rverFixes } from '../../test/storage/s3rver-fixes.ts';

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  console.error('usage: s3-server.ts <directory> <bucket>');
  // 2: a usage error, as shell tools report it.
  process.exit(2);
}
const s3rver = new S3rver({
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket }],
});
applyS3rverFixes(s3rver);
await s3rver.configureBuckets();
const server = createServer(s3rver.callback());
server.listen(0, '127.0.0.1', () => {
  console.log(`S3RVER_READY ${(server.address() as AddressInfo).port}`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
