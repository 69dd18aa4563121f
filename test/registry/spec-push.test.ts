import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlobStore, blobKey } from '../../proxy/src/storage/index.ts';
import { digestOf, OciClient } from './lib/oci-client.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';

/**
 * OCI distribution spec, workflow category "Push", against a hosted docker
 * repository. Each test names the spec section (and endpoint id) it checks.
 */
describe('distribution spec: Push (hosted repository)', () => {
  let orchard: Orchard;
  let oci: OciClient;
  let blobs: BlobStore;

  beforeAll(async () => {
    orchard = await startOrchard({
      config:
        dockerRemote('hosted', { type: 'local' }) +
        dockerRemote('cache', { type: 'remote', baseUrl: 'http://127.0.0.1:9' }),
    });
    oci = new OciClient(orchard.url);
    blobs = orchard.proxy.deps.blobs;
  });
  afterAll(async () => {
    await orchard?.close();
  });

  it('end-4a + end-6 "POST then PUT": 202 with a Location, then 201 with Location and Docker-Content-Digest', async () => {
    const data = Buffer.from('post then put');
    const start = await oci.req('POST', '/v2/hosted/push/blobs/uploads/');
    expect(start.status).toBe(202);
    const location = start.headers.get('location')!;
    expect(location).toMatch(/^\/v2\/hosted\/push\/blobs\/uploads\/[0-9a-f-]{36}$/);
    expect(start.headers.get('range')).toBe('0-0');
    const done = await oci.req('PUT', `${location}?digest=${digestOf(data)}`, {
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(done.status).toBe(201);
    expect(done.headers.get('location')).toBe(`/v2/hosted/push/blobs/${digestOf(data)}`);
    expect(done.headers.get('docker-content-digest')).toBe(digestOf(data));
    const got = await oci.req('GET', done.headers.get('location')!);
    expect(got.body.equals(data)).toBe(true);
  });

  it('end-4b "Single POST": a monolithic upload in one request answers 201', async () => {
    const data = Buffer.from('single post');
    const r = await oci.req('POST', `/v2/hosted/push/blobs/uploads/?digest=${digestOf(data)}`, {
      body: data,
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('docker-content-digest')).toBe(digestOf(data));
    expect(
      (await oci.req('HEAD', `/v2/hosted/push/blobs/${digestOf(data)}`)).headers.get('content-length'),
    ).toBe(String(data.length));
  });

  it('end-5 "Pushing a blob in chunks": ordered PATCHes, progress via end-13, closing PUT with the last chunk', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    const start = await oci.req('POST', '/v2/hosted/chunks/blobs/uploads/', {
      headers: { 'content-length': '0' },
    });
    let location = start.headers.get('location')!;
    const first = await oci.req('PATCH', location, {
      body: data.subarray(0, 8),
      headers: { 'content-range': '0-7', 'content-type': 'application/octet-stream' },
    });
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe('0-7');
    location = first.headers.get('location')!;
    const second = await oci.req('PATCH', location, {
      body: data.subarray(8, 15),
      headers: { 'content-range': '8-14' },
    });
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe('0-14');
    const status = await oci.req('GET', location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-14');
    const done = await oci.req('PUT', `${location}?digest=${digestOf(data)}`, {
      body: data.subarray(15),
      headers: { 'content-range': '15-19' },
    });
    expect(done.status).toBe(201);
    const got = await oci.req('GET', `/v2/hosted/chunks/blobs/${digestOf(data)}`);
    expect(got.body.equals(data)).toBe(true);
  });

  it('end-5: an out-of-order chunk gets 416 with the current Range, and the upload can resume', async () => {
    const data = Buffer.from('abcdefghij');
    const start = await oci.req('POST', '/v2/hosted/chunks/blobs/uploads/');
    const location = start.headers.get('location')!;
    await oci.req('PATCH', location, { body: data.subarray(0, 4), headers: { 'content-range': '0-3' } });
    const skipped = await oci.req('PATCH', location, {
      body: data.subarray(6),
      headers: { 'content-range': '6-9' },
    });
    expect(skipped.status).toBe(416);
    expect(skipped.headers.get('range')).toBe('0-3');
    const malformed = await oci.req('PATCH', location, {
      body: 'x',
      headers: { 'content-range': 'bytes=4' },
    });
    expect(malformed.status).toBe(416);
    const resumed = await oci.req('PATCH', location, {
      body: data.subarray(4),
      headers: { 'content-range': '4-9' },
    });
    expect(resumed.status).toBe(202);
    const done = await oci.req('PUT', `${location}?digest=${digestOf(data)}`);
    expect(done.status).toBe(201);
  });

  it('end-6: a digest that does not match the uploaded bytes is DIGEST_INVALID and stores nothing', async () => {
    const start = await oci.req('POST', '/v2/hosted/bad/blobs/uploads/');
    const wrong = digestOf('something else');
    const r = await oci.req('PUT', `${start.headers.get('location')}?digest=${wrong}`, {
      body: 'actual bytes',
    });
    expect(r.status).toBe(400);
    expect(r.codes()).toEqual(['DIGEST_INVALID']);
    expect((await oci.req('HEAD', `/v2/hosted/bad/blobs/${wrong}`)).status).toBe(404);
    expect(await blobs.stat(blobKey(wrong.slice(7)))).toBeUndefined();
  });

  it('"Canceling an Upload": DELETE ends the session; its URL then answers BLOB_UPLOAD_UNKNOWN', async () => {
    const start = await oci.req('POST', '/v2/hosted/cancel/blobs/uploads/');
    const location = start.headers.get('location')!;
    await oci.req('PATCH', location, { body: 'partial' });
    expect((await oci.req('DELETE', location)).status).toBe(204);
    const after = await oci.req('GET', location);
    expect(after.status).toBe(404);
    expect(after.codes()).toEqual(['BLOB_UPLOAD_UNKNOWN']);
  });

  it('end-11 "Mounting a blob from another repository": 201 when the source holds it, else a 202 upload', async () => {
    const digest = await oci.pushBlob('hosted/source', 'mount me');
    const mounted = await oci.req(
      'POST',
      `/v2/hosted/target/blobs/uploads/?mount=${digest}&from=hosted/source`,
    );
    expect(mounted.status).toBe(201);
    expect(mounted.headers.get('location')).toBe(`/v2/hosted/target/blobs/${digest}`);
    expect((await oci.req('GET', `/v2/hosted/target/blobs/${digest}`)).body.toString()).toBe('mount me');
    const fallback = await oci.req(
      'POST',
      `/v2/hosted/target/blobs/uploads/?mount=${digestOf('nope')}&from=hosted/source`,
    );
    expect(fallback.status).toBe(202);
    expect(fallback.headers.get('location')).toMatch(/\/blobs\/uploads\//);
  });

  it('"Pushing Manifests" (end-7): 201 with Location and Docker-Content-Digest; pull by tag and digest', async () => {
    const { digest, reply } = await oci.pushImage('hosted/app', 'v1', ['layer-a', 'layer-b']);
    expect(reply.status).toBe(201);
    expect(reply.headers.get('location')).toBe(`/v2/hosted/app/manifests/${digest}`);
    expect(reply.headers.get('docker-content-digest')).toBe(digest);
    for (const ref of ['v1', digest]) {
      const got = await oci.req('GET', `/v2/hosted/app/manifests/${ref}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(got.headers.get('docker-content-digest')).toBe(digest);
      expect(digestOf(got.body)).toBe(digest);
    }
  });

  it('end-7: a manifest naming a blob the repository lacks is MANIFEST_BLOB_UNKNOWN, listing the digest', async () => {
    const missing = digestOf('never pushed');
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: missing, size: 12 },
      layers: [],
    };
    const r = await oci.pushManifest(
      'hosted/app',
      'broken',
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    expect(r.status).toBe(400);
    expect(r.codes()).toEqual(['MANIFEST_BLOB_UNKNOWN']);
    expect(r.json<{ errors: { detail: { digests: string[] } }[] }>().errors[0]!.detail.digests).toEqual([
      missing,
    ]);
    // A blob in another repository is not enough: manifests are checked against their own repository.
    await oci.pushBlob('hosted/elsewhere', 'never pushed');
    const again = await oci.pushManifest(
      'hosted/app',
      'broken',
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    expect(again.codes()).toEqual(['MANIFEST_BLOB_UNKNOWN']);
  });

  it('end-7: media type inconsistency, malformed JSON and a digest mismatch are refused', async () => {
    const { manifest } = await oci.pushImage('hosted/app', 'v2', ['x']);
    const mismatch = await oci.pushManifest(
      'hosted/app',
      'v3',
      manifest,
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    expect(mismatch.codes()).toEqual(['MANIFEST_INVALID']);
    const notJson = await oci.pushManifest(
      'hosted/app',
      'v3',
      '{not json',
      'application/vnd.oci.image.manifest.v1+json',
    );
    expect(notJson.codes()).toEqual(['MANIFEST_INVALID']);
    const byDigest = await oci.pushManifest(
      'hosted/app',
      digestOf('other'),
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    expect(byDigest.status).toBe(400);
    expect(byDigest.codes()).toEqual(['DIGEST_INVALID']);
  });

  it('end-7: an index may only list manifests the repository holds', async () => {
    const child = await oci.pushImage('hosted/idx', 'child', ['c']);
    const index = (digests: string[]) => ({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: digests.map((d) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d,
        size: 1,
      })),
    });
    const bad = await oci.pushManifest(
      'hosted/idx',
      'all',
      index([child.digest, digestOf('x')]),
      'application/vnd.oci.image.index.v1+json',
    );
    expect(bad.codes()).toEqual(['MANIFEST_BLOB_UNKNOWN']);
    const ok = await oci.pushManifest(
      'hosted/idx',
      'all',
      index([child.digest]),
      'application/vnd.oci.image.index.v1+json',
    );
    expect(ok.status).toBe(201);
  });

  it('end-7: manifests of 4 MiB are accepted; larger than the limit is 413', async () => {
    const big = await oci.pushImage('hosted/big', 'v1', ['l'], {
      annotations: { pad: 'x'.repeat(4 * 1024 * 1024 - 600) },
    });
    expect(big.reply.status).toBe(201);
    const huge = await oci.pushImage('hosted/big', 'v2', ['l'], {
      annotations: { pad: 'x'.repeat(9 * 1024 * 1024) },
    });
    expect(huge.reply.status).toBe(413);
    expect(huge.reply.codes()).toEqual(['SIZE_INVALID']);
  });

  it('blobs are shared in the content-addressed store: the same bytes pushed to two repositories are stored once', async () => {
    const data = Buffer.from('shared layer bytes');
    const key = blobKey(digestOf(data).slice(7));
    await oci.pushBlob('hosted/one', data);
    const first = await blobs.stat(key);
    await new Promise((r) => setTimeout(r, 20));
    await oci.pushBlob('hosted/two', data);
    // Verified, not written again: the stored object is the first one.
    expect((await blobs.stat(key))?.lastModified).toEqual(first?.lastModified);
    expect((await oci.req('GET', `/v2/hosted/two/blobs/${digestOf(data)}`)).body.equals(data)).toBe(true);
  });

  it('a pull-through remote refuses pushes with UNSUPPORTED (405)', async () => {
    const r = await oci.req('POST', '/v2/cache/library/x/blobs/uploads/');
    expect(r.status).toBe(405);
    expect(r.codes()).toEqual(['UNSUPPORTED']);
  });
});
