/**
 * `node test/storage/serve-s3rver.ts <dir> <bucket>`: s3rver with the fixes of
 * s3rver-fixes.ts on 127.0.0.1 and a kernel-chosen port; prints
 * `S3RVER_READY <port>` when it accepts requests and exits on SIGTERM/SIGINT.
 * For running the S3 conformance suite by hand:
 *   ORCHARD_TEST_S3_ENDPOINT=http://127.0.0.1:<port> ORCHARD_TEST_S3_BUCKET=<bucket> vitest run test/storage
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { applyS3rverFixes } from './s3rver-fixes.ts';

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  console.error('usage: serve-s3rver.ts <directory> <bucket>');
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
