import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobKey } from '../../proxy/src/storage/index.ts';
import { tmpDir } from '../harness/index.ts';
import { type CountingProxy, startCountingProxy } from './lib/counting-proxy.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { OciClient } from './lib/oci-client.ts';
import { type BuiltImage, type BuiltIndex, OciLayout, sha256 } from './lib/oci-layout.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { skopeoCopy } from './lib/skopeo.ts';

/**
 * Pull-through of a real registry: Debian's docker-registry (distribution
 * 2.8), anonymous, seeded with skopeo from OCI layouts built here; clients
 * pull through Orchard with skopeo. A counting proxy in front of the upstream
 * shows what Orchard fetched.
 */
describe('pull-through of docker-registry with skopeo', () => {
  let upstream: DockerRegistry;
  let counting: CountingProxy;
  let orchard: Orchard;
  let image: BuiltImage;
  let multi: BuiltIndex;
  let official: BuiltImage;

  beforeAll(async () => {
    upstream = await startDockerRegistry();
    counting = await startCountingProxy(upstream.url);
    const src = await OciLayout.create(await tmpDir('oci-seed-'));
    image = await src.image({
      tag: 'v1',
      layers: [
        [{ name: 'one.txt', content: 'first layer\n' }],
        [{ name: 'two.txt', content: 'second layer\n'.repeat(1000) }],
      ],
    });
    multi = await src.index({
      tag: 'multi',
      architectures: ['amd64', 'arm64', 'ppc64le'],
      files: (arch) => [[{ name: 'arch', content: `${arch}\n` }]],
    });
    official = await src.image({ tag: 'stable', layers: [[{ name: 'hello', content: 'official image\n' }]] });
    await skopeoCopy(`oci:${src.dir}:v1`, `docker://${upstream.host}/team/app:v1`);
    await skopeoCopy(`oci:${src.dir}:multi`, `docker://${upstream.host}/team/multi:latest`, { all: true });
    await skopeoCopy(`oci:${src.dir}:stable`, `docker://${upstream.host}/library/hello:stable`);
    for (const t of ['1.0', '1.1', '2.0'])
      await skopeoCopy(`oci:${src.dir}:v1`, `docker://${upstream.host}/team/app:${t}`);
    orchard = await startOrchard({
      config:
        dockerRemote('up', { type: 'remote', baseUrl: counting.url }) +
        dockerRemote('hub', { type: 'remote', baseUrl: counting.url, mirrorOf: ['docker.io'] }) +
        dockerRemote('hosted', { type: 'local' }),
    });
  }, 120_000);

  afterAll(async () => {
    await orchard?.close();
    await counting?.close();
    await upstream?.stop();
  });

  it('pulls a multi-layer image through /v2/{remote}/{name}: identical digests, each blob fetched once', async () => {
    const out = await tmpDir('oci-pull-');
    await skopeoCopy(`docker://${orchard.host}/up/team/app:v1`, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(image.manifest.digest);
    for (const d of [image.config, ...image.layers]) {
      expect(`sha256:${sha256(await readFile(join(out, 'blobs', 'sha256', d.digest.slice(7))))}`).toBe(
        d.digest,
      );
      expect(counting.count('GET', new RegExp(`/v2/team/app/blobs/${d.digest}$`))).toBe(1);
    }
    // A second pull is served from the cache: no more blob fetches.
    await skopeoCopy(`docker://${orchard.host}/up/team/app:v1`, `oci:${await tmpDir('oci-pull2-')}:v1`);
    for (const d of image.layers) expect(counting.count('GET', new RegExp(`/blobs/${d.digest}$`))).toBe(1);
  });

  it('pulls a multi-arch index with --all, every platform identical', async () => {
    const out = await tmpDir('oci-multi-');
    await skopeoCopy(`docker://${orchard.host}/up/team/multi:latest`, `oci:${out}:latest`, { all: true });
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(multi.index.digest);
    for (const img of multi.images) {
      const bytes = await readFile(join(out, 'blobs', 'sha256', img.manifest.digest.slice(7)));
      expect(`sha256:${sha256(bytes)}`).toBe(img.manifest.digest);
    }
  });

  it('negotiates manifests: the cached index keeps its media type and Docker-Content-Digest', async () => {
    const oci = new OciClient(orchard.url);
    const r = await oci.req('GET', '/v2/up/team/multi/manifests/latest', {
      headers: {
        accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json',
      },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    expect(r.headers.get('docker-content-digest')).toBe(multi.index.digest);
    const head = await oci.req('HEAD', `/v2/up/team/multi/manifests/${multi.index.digest}`);
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(multi.index.digest);
  });

  it('a GET by tag then by digest fetches the manifest upstream once', async () => {
    const oci = new OciClient(orchard.url);
    const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
    const byTag = await oci.req('GET', '/v2/up/team/app/manifests/1.0', { headers: accept });
    expect(byTag.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    await orchard.settled();
    const byDigest = await oci.req('GET', `/v2/up/team/app/manifests/${image.manifest.digest}`, {
      headers: accept,
    });
    expect(byDigest.status).toBe(200);
    expect(byDigest.headers.get('x-artifact-source')).toBe('cache');
    expect(counting.count('GET', /^\/v2\/team\/app\/manifests\/1\.0$/)).toBe(1);
    expect(counting.count('GET', new RegExp(`^/v2/team/app/manifests/${image.manifest.digest}$`))).toBe(0);
  });

  it("applies Docker Hub's library/ rule to single-segment names on a docker.io mirror", async () => {
    const out = await tmpDir('oci-hello-');
    await skopeoCopy(`docker://${orchard.host}/hub/hello:stable`, `oci:${out}:stable`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(official.manifest.digest);
    expect(counting.count('GET', /^\/v2\/library\/hello\/manifests\/stable$/)).toBe(1);
    // Both spellings share one cache entry.
    const oci = new OciClient(orchard.url);
    expect((await oci.req('HEAD', '/v2/hub/library/hello/manifests/stable')).status).toBe(200);
    expect(counting.count('GET', /^\/v2\/library\/hello\/manifests\/stable$/)).toBe(1);
  });

  it('lists tags through the cache with n/last pagination', async () => {
    const oci = new OciClient(orchard.url);
    const all = await oci.req('GET', '/v2/up/team/app/tags/list');
    expect(all.json()).toEqual({ name: 'up/team/app', tags: ['1.0', '1.1', '2.0', 'v1'] });
    const page = await oci.req('GET', '/v2/up/team/app/tags/list?n=2&last=1.0');
    expect(page.json<{ tags: string[] }>().tags).toEqual(['1.1', '2.0']);
    expect(page.headers.get('link')).toBe('</v2/up/team/app/tags/list?n=2&last=2.0>; rel="next"');
    expect(counting.count('GET', /\/tags\/list/)).toBe(1);
  });

  it('serves byte ranges of cached blobs', async () => {
    const oci = new OciClient(orchard.url);
    const layer = image.layers[1]!;
    const whole = await oci.req('GET', `/v2/up/team/app/blobs/${layer.digest}`);
    const part = await oci.req('GET', `/v2/up/team/app/blobs/${layer.digest}`, {
      headers: { range: 'bytes=5-24' },
    });
    expect(part.status).toBe(206);
    expect(part.body.equals(whole.body.subarray(5, 25))).toBe(true);
  });

  it('answers MANIFEST_UNKNOWN and BLOB_UNKNOWN for what the upstream does not have', async () => {
    const oci = new OciClient(orchard.url);
    const m = await oci.req('GET', '/v2/up/team/app/manifests/nosuchtag');
    expect(m.status).toBe(404);
    expect(m.codes()).toEqual(['MANIFEST_UNKNOWN']);
    const b = await oci.req('GET', `/v2/up/team/app/blobs/sha256:${'0'.repeat(64)}`);
    expect(b.status).toBe(404);
    expect(b.codes()).toEqual(['BLOB_UNKNOWN']);
  });

  it('pushing an already-cached image to a hosted repository stores nothing new', async () => {
    // The first test pulled (and so cached) this image; let earlier fills finish committing.
    await orchard.settled();
    const before = await blobKeys(orchard);
    await skopeoCopy(
      `docker://${orchard.host}/up/team/app:v1`,
      `docker://${orchard.host}/hosted/team/app:v1`,
    );
    expect(await blobKeys(orchard)).toEqual(before);
    for (const d of [image.manifest, image.config, ...image.layers])
      expect(before).toContain(blobKey(d.digest.slice(7)));
  });

  it('keeps serving a pulled image when the upstream is down', async () => {
    await upstream.stop();
    try {
      const out = await tmpDir('oci-offline-');
      await skopeoCopy(`docker://${orchard.host}/up/team/app:v1`, `oci:${out}:v1`);
      const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
      expect(index.manifests[0].digest).toBe(image.manifest.digest);
    } finally {
      await upstream.restart();
    }
  });
});

async function blobKeys(orchard: Orchard): Promise<string[]> {
  const keys: string[] = [];
  for await (const b of orchard.proxy.deps.blobs.list('blobs/')) keys.push(b.key);
  return keys.sort();
}
