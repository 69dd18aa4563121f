/**
 * Child-process entry point for the test S3 server: `node s3-server.ts <dir> <bucket>`.
 * Runs s3rver on 127.0.0.1 and a kernel-chosen port, creates the bucket, prints
 * `S3RVER_READY <port>` once it accepts requests, and exits on SIGTERM or SIGINT.
 * A separate process keeps s3rver off the test runner's event loop and lets every
 * vitest worker reach it.
 */
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  console.error('usage: s3-server.ts <directory> <bucket>');
  process.exit(2);
}
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket }],
});
const { port } = await server.run();
console.log(`S3RVER_READY ${port}`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.close().finally(() => process.exit(0));
  });
}
