import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountedPullThrough, startCountedPullThrough } from './lib/counted-pull-through.ts';
import type { CountingProxy } from './lib/counting-proxy.ts';
import { OciClient } from './lib/oci-client.ts';
import type { Orchard } from './lib/orchard.ts';

const layerSize = 64 * 1024 * 1024;

/**
 * Spec "Pull" (end-2, end-3: checking that a blob or manifest exists with
 * HEAD): a HEAD of an object Orchard has not cached is answered with the
 * upstream's HEAD, like distribution's pull-through, and downloads and stores
 * nothing. Counted at the upstream (Debian's docker-registry) with a counting
 * proxy; the cache index and blob store are inspected directly.
 */
describe('HEAD of uncached blobs and manifests (spec: pull, end-2/end-3)', () => {
  let counting: CountingProxy;
  let orchard: Orchard;
  let layer: string;
  let manifest: string;

  let fixture: CountedPullThrough;

  beforeAll(async () => {
    fixture = await startCountedPullThrough({ repo: 'big/layer', layerSize, seed: 11 });
    ({ counting, orchard, layer, manifest } = fixture);
  }, 180_000);

  afterAll(async () => {
    await fixture?.close();
  });

  const cachedRows = async () =>
    (await orchard.proxy.deps.db.query<{ path: string }>('SELECT path FROM cache_entries')).rows.map(
      (r) => r.path,
    );
  const storedBlobs = async () => {
    const keys: string[] = [];
    for await (const b of orchard.proxy.deps.blobs.list('')) keys.push(b.key);
    return keys;
  };

  it('a cold blob HEAD makes 1 upstream HEAD, 0 GETs, and stores nothing', async () => {
    const blobPath = new RegExp(`/blobs/${layer}$`);
    const res = await request(`${orchard.url}/v2/up/big/layer/blobs/${layer}`, { method: 'HEAD' });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(layerSize));
    expect(res.headers['docker-content-digest']).toBe(layer);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(counting.count('HEAD', blobPath)).toBe(1);
    expect(counting.count('GET', blobPath)).toBe(0);
    await orchard.settled();
    expect(await cachedRows()).toEqual([]);
    expect(await storedBlobs()).toEqual([]);
  });

  it('a cold manifest HEAD by tag and by digest answers with the upstream media type and digest, storing nothing', async () => {
    for (const ref of ['v1', manifest]) {
      const res = await request(`${orchard.url}/v2/up/big/layer/manifests/${ref}`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(res.headers['docker-content-digest']).toBe(manifest);
      expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    }
    expect(counting.count('HEAD', /\/manifests\//)).toBe(2);
    expect(counting.count('GET', /\/manifests\//)).toBe(0);
    expect(await cachedRows()).toEqual([]);
  });

  it('a cold HEAD of an unknown blob or manifest is a 404 (BLOB_UNKNOWN / MANIFEST_UNKNOWN on GET)', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    const oci = new OciClient(orchard.url);
    expect((await oci.req('HEAD', `/v2/up/big/layer/blobs/${missing}`)).status).toBe(404);
    expect((await oci.req('HEAD', '/v2/up/big/layer/manifests/nope')).status).toBe(404);
    expect(counting.count('HEAD', new RegExp(`/blobs/${missing}$`))).toBe(1);
    expect(counting.count('HEAD', /\/manifests\/nope$/)).toBe(1);
    // The 404 is remembered for negativeTtl, as a fill's is: a GET right after asks no one.
    const get = await oci.req('GET', `/v2/up/big/layer/blobs/${missing}`);
    expect(get.status).toBe(404);
    expect(get.codes()).toEqual(['BLOB_UNKNOWN']);
    const man = await oci.req('GET', '/v2/up/big/layer/manifests/nope');
    expect(man.codes()).toEqual(['MANIFEST_UNKNOWN']);
    expect(counting.count('GET', new RegExp(`/blobs/${missing}$`))).toBe(0);
    expect(await cachedRows()).toEqual([]);
  });

  it('a GET after the HEAD still fills and serves the blob; a warm HEAD is answered from the cache', async () => {
    const blobPath = new RegExp(`/blobs/${layer}$`);
    const res = await request(`${orchard.url}/v2/up/big/layer/blobs/${layer}`);
    const hash = createHash('sha256');
    let size = 0;
    for await (const c of res.body) {
      hash.update(c as Buffer);
      size += (c as Buffer).length;
    }
    expect(res.statusCode).toBe(200);
    expect({ size, digest: `sha256:${hash.digest('hex')}` }).toEqual({ size: layerSize, digest: layer });
    expect(counting.count('GET', blobPath)).toBe(1);
    await orchard.settled();
    expect(await cachedRows()).toContain(`big/layer/blobs/${layer}`);
    const heads = counting.count('HEAD', blobPath);
    const warm = await request(`${orchard.url}/v2/up/big/layer/blobs/${layer}`, { method: 'HEAD' });
    await warm.body.dump();
    expect(warm.statusCode).toBe(200);
    expect(warm.headers['content-length']).toBe(String(layerSize));
    expect(warm.headers['x-artifact-source']).toBe('cache');
    expect(counting.count('HEAD', blobPath)).toBe(heads);
    expect(counting.count('GET', blobPath)).toBe(1);
  });

  it('containerd resolves (HEAD tag, GET digest): the tag is then cached from the digest copy, revalidated by HEAD', async () => {
    const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
    const tagPath = /\/manifests\/v1$/;
    const get = await request(`${orchard.url}/v2/up/big/layer/manifests/${manifest}`, { headers: accept });
    await get.body.dump();
    expect(get.statusCode).toBe(200);
    expect(counting.count('GET', new RegExp(`/manifests/${manifest}$`))).toBe(1);
    await orchard.settled();
    const heads = counting.count('HEAD', tagPath);
    const head = async () => {
      const res = await request(`${orchard.url}/v2/up/big/layer/manifests/v1`, {
        method: 'HEAD',
        headers: accept,
      });
      await res.body.dump();
      return res;
    };
    // The earlier cold HEAD named this digest: its verified copy now serves the tag after one revalidating HEAD.
    const first = await head();
    expect(first.statusCode).toBe(200);
    expect(first.headers['docker-content-digest']).toBe(manifest);
    expect(first.headers['x-artifact-source']).toBe('cache');
    expect(counting.count('HEAD', tagPath)).toBe(heads + 1);
    expect(counting.count('GET', tagPath)).toBe(0);
    expect(await cachedRows()).toContain('big/layer/manifests/v1');
    // Fresh now: the next resolve asks the upstream nothing.
    expect((await head()).headers['x-artifact-source']).toBe('cache');
    expect(counting.count('HEAD', tagPath)).toBe(heads + 1);
  });
});
