import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { wrapBlobStore } from '../../proxy/src/storage/base.ts';
import { describeBlobStoreConformance, openUploadsCheck } from '../../proxy/src/storage/conformance.ts';
import { S3BlobStore, type S3BlobStoreOptions } from '../../proxy/src/storage/s3.ts';

const endpoint = process.env.ORCHARD_TEST_S3_ENDPOINT;
const bucket = process.env.ORCHARD_TEST_S3_BUCKET;
if (!endpoint || !bucket) {
  throw new Error(
    'ORCHARD_TEST_S3_ENDPOINT and ORCHARD_TEST_S3_BUCKET are not set: run this suite through `npm test`, ' +
      'which starts an S3 server, or start one with `node hack/services/serve.ts s3` and export what it prints',
  );
}

const options: S3BlobStoreOptions = {
  endpoint,
  bucket,
  region: 'us-east-1',
  forcePathStyle: true,
  accessKeyId: process.env.ORCHARD_TEST_S3_ACCESS_KEY_ID ?? 'S3RVER',
  secretAccessKey: process.env.ORCHARD_TEST_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
  // A prefix of its own, so other suites sharing the bucket do not show up in list('').
  prefix: `conformance-${randomBytes(6).toString('hex')}/`,
  // Low enough that the 3 MiB move test takes the UploadPartCopy path.
  copyThreshold: 1024 * 1024,
};
const s3 = new S3BlobStore(options);
await requireS3Semantics(s3);

describeBlobStoreConformance('s3', async () => wrapBlobStore(s3, { registry: new Registry() }), {
  ...openUploadsCheck(s3),
  reopen: async () => wrapBlobStore(new S3BlobStore(options), { registry: new Registry() }),
  largeTimeoutMs: 180_000,
});

/**
 * s3rver alone lacks ListMultipartUploads, ListParts, AbortMultipartUpload and
 * UploadPartCopy, and writes objects in place. One probe turns 81 confusing
 * failures into one message saying what the test server needs.
 */
async function requireS3Semantics(store: S3BlobStore): Promise<void> {
  try {
    for await (const _ of store.listUploads('probe/')) break;
  } catch (err) {
    throw new Error(
      `the S3 test server at ${endpoint} does not implement ListMultipartUploads (${String(err)}); ` +
        'if it is s3rver, apply test/storage/s3rver-fixes.ts (applyS3rverFixes(server)) before serving',
    );
  }
}
