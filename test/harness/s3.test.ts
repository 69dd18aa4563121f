import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { requireEnv } from './index.ts';

// Checks that the S3 server started by `npm test` does what the s3 BlobStore needs.
const bucket = requireEnv('ORCHARD_TEST_S3_BUCKET');
const prefix = `harness-${randomUUID()}/`;

function client(extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: requireEnv('ORCHARD_TEST_S3_ENDPOINT'),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: requireEnv('ORCHARD_TEST_S3_ACCESS_KEY_ID'),
      secretAccessKey: requireEnv('ORCHARD_TEST_S3_SECRET_ACCESS_KEY'),
    },
    // s3rver does not understand aws-chunked uploads with trailing checksums, which the
    // SDK sends by default for streaming bodies (see the last test).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...extra,
  });
}

const s3 = client();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function getBytes(key: string, range?: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

async function listKeys(): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!);
}

afterAll(async () => {
  for (const key of await listKeys()) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  s3.destroy();
});

describe('S3 server of the test command', () => {
  it('stores and returns an object from a streaming PUT', async () => {
    const data = randomBytes(300_000);
    const key = `${prefix}put-get`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    expect(sha256(await getBytes(key))).toBe(sha256(data));
  });

  it.each([
    ['start', 'bytes=0-9', 0, 10],
    ['middle', 'bytes=1000-1999', 1000, 2000],
    ['last byte', 'bytes=4095-4095', 4095, 4096],
  ])('serves a ranged GET at the %s', async (_label, range, from, to) => {
    const data = randomBytes(4096);
    const key = `${prefix}range-${from}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
    expect((await getBytes(key, range)).equals(data.subarray(from, to))).toBe(true);
  });

  it('assembles a multipart upload whose parts arrive out of order', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const key = `${prefix}multipart`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const order = [2, 0, 1];
    const etags: string[] = [];
    for (const i of order) {
      const res = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }),
      );
      etags[i] = res.ETag!;
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    expect(sha256(await getBytes(key))).toBe(sha256(Buffer.concat(parts)));
  });

  it('lists uploaded parts with their sizes, a retried part replacing the first try', async () => {
    const key = `${prefix}list-parts`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    for (const [n, size] of [
      [2, 10],
      [1, 7],
      [2, 20],
    ]) {
      await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: randomBytes(size) }),
      );
    }
    const res = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(res.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 7],
      [2, 20],
    ]);
    expect(res.Parts?.every((p) => /^"[0-9a-f]{32}"$/.test(p.ETag ?? ''))).toBe(true);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
  });

  it('aborts a multipart upload: no object appears and the upload is gone', async () => {
    const key = `${prefix}aborted`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: randomBytes(100) }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(await listKeys()).not.toContain(key);
    await expect(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }))).rejects.toMatchObject(
      {
        name: 'NoSuchUpload',
      },
    );
  });

  const unknownUploadOps: [string, (UploadId: string, Key: string) => Promise<unknown>][] = [
    [
      'upload a part to',
      (UploadId, Key) =>
        s3.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber: 1, Body: 'x' })),
    ],
    [
      'list the parts of',
      (UploadId, Key) => s3.send(new ListPartsCommand({ Bucket: bucket, Key, UploadId })),
    ],
    [
      'complete',
      (UploadId, Key) =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: [{ ETag: '"x"', PartNumber: 1 }] },
          }),
        ),
    ],
    ['abort', (UploadId, Key) => s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }))],
  ];
  it.each(unknownUploadOps)('answers NoSuchUpload to %s an unknown upload', async (_label, op) => {
    const key = `${prefix}unknown`;
    await expect(op('0123456789abcdef0123456789abcdef', key)).rejects.toMatchObject({ name: 'NoSuchUpload' });
    expect(await listKeys()).not.toContain(key);
  });

  it('deletes one key without touching another that shares its prefix', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}del-a`, Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}del-ab`, Body: 'ab' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}del-a` }));
    const keys = await listKeys();
    expect(keys).toContain(`${prefix}del-ab`);
    expect(keys).not.toContain(`${prefix}del-a`);
  });

  // Platform fact for the s3 BlobStore: with the SDK's default checksum setting, a
  // streaming body is sent aws-chunked with a trailing checksum, and s3rver stores the
  // chunk framing as object bytes. If this starts passing intact, the caveat is gone.
  it('corrupts streaming PUTs made with the SDK default checksums (why WHEN_REQUIRED is set)', async () => {
    const plain = client({ requestChecksumCalculation: 'WHEN_SUPPORTED' });
    const data = Buffer.from('orchard '.repeat(1000));
    const key = `${prefix}default-checksums`;
    await plain.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    plain.destroy();
    const stored = await getBytes(key);
    expect(stored.length).toBeGreaterThan(data.length);
    expect(stored.includes(data)).toBe(true);
  });
});
