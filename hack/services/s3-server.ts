/**
 * Child-process entry point for the test S3 server: `node s3-server.ts <dir> <bucket>`.
 * Serves s3rver, plus the multipart operations it lacks (s3-multipart-compat.ts), on
 * 127.0.0.1 and a kernel-chosen port, with the bucket created. Prints
 * `S3RVER_READY <port>` once it accepts requests; exits on SIGTERM or SIGINT.
 * A separate process keeps s3rver off the test runner's event loop and lets every
 * vitest worker reach it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { handleMultipartCompat } from './s3-multipart-compat.ts';

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  console.error('usage: s3-server.ts <directory> <bucket>');
  process.exit(2);
}
const s3rver = new S3rver({
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket }],
});
await s3rver.configureBuckets();
const s3rverHandler = s3rver.callback();
const server = createServer((req, res) => {
  handleMultipartCompat(directory, req, res).then(
    (handled) => handled || s3rverHandler(req, res),
    (err: unknown) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    },
  );
});
server.listen(0, '127.0.0.1', () => {
  console.log(`S3RVER_READY ${(server.address() as AddressInfo).port}`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
