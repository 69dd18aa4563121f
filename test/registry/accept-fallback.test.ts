import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { digestOf, OciClient } from './lib/oci-client.ts';
import { type BuiltIndex, OciLayout } from './lib/oci-layout.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { skopeoCopy } from './lib/skopeo.ts';

const types = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
};

/**
 * The spec's "pull manifests" section, content negotiation: a client whose
 * Accept takes no index type, pulling a multi-arch tag through Orchard, gets
 * the linux/amd64 manifest (as distribution serves it). The upstream is
 * Debian's docker-registry, seeded with skopeo.
 */
describe('pull manifests: Accept fallback to linux/amd64 for pull-through', () => {
  let upstream: DockerRegistry;
  let orchard: Orchard;
  let oci: OciClient;
  let multi: BuiltIndex;
  let amd64: { digest: string; bytes: Buffer };
  let indexBytes: Buffer;

  beforeAll(async () => {
    upstream = await startDockerRegistry();
    const src = await OciLayout.create(await tmpDir('oci-accept-'));
    multi = await src.index({
      tag: 'multi',
      architectures: ['arm64', 'amd64', 'ppc64le'],
      files: (arch) => [[{ name: 'arch', content: `${arch}\n` }]],
    });
    await src.index({
      tag: 'noamd',
      architectures: ['arm64', 's390x'],
      files: (arch) => [[{ name: 'arch', content: `only ${arch}\n` }]],
    });
    const image = multi.images.find((i) => i.manifest.platform?.architecture === 'amd64')!;
    amd64 = { digest: image.manifest.digest, bytes: await src.readBlob(image.manifest.digest) };
    indexBytes = await src.readBlob(multi.index.digest);
    for (const tag of ['latest', 'cold-head'])
      await skopeoCopy(`oci:${src.dir}:multi`, `docker://${upstream.host}/team/multi:${tag}`, { all: true });
    await skopeoCopy(`oci:${src.dir}:noamd`, `docker://${upstream.host}/team/noamd:latest`, { all: true });
    orchard = await startOrchard({ config: dockerRemote('up', { type: 'remote', baseUrl: upstream.url }) });
    oci = new OciClient(orchard.url);
  }, 120_000);

  afterAll(async () => {
    await orchard?.close();
    await upstream?.stop();
  });

  it('pull manifests (content negotiation): Accept Docker manifest v2 only gets the amd64 manifest, cold', async () => {
    const r = await oci.req('GET', '/v2/up/team/multi/manifests/latest', {
      headers: { accept: types.dockerManifest },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('docker-content-digest')).toBe(amd64.digest);
    expect(r.headers.get('content-type')).toBe(types.ociManifest);
    expect(r.body.equals(amd64.bytes)).toBe(true);
    expect(digestOf(r.body)).toBe(amd64.digest);
    await orchard.settled();
  });

  it('pull manifests (content negotiation): Accept OCI manifest only gets the same, cached', async () => {
    const r = await oci.req('GET', '/v2/up/team/multi/manifests/latest', {
      headers: { accept: `${types.ociManifest};q=0.9` },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('docker-content-digest')).toBe(amd64.digest);
    expect(r.body.equals(amd64.bytes)).toBe(true);
    const head = await oci.req('HEAD', '/v2/up/team/multi/manifests/latest', {
      headers: { accept: types.ociManifest },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(amd64.digest);
    expect(head.headers.get('content-length')).toBe(String(amd64.bytes.length));
  });

  it('pull manifests (content negotiation): a HEAD of an uncached tag with a narrow Accept names the amd64 manifest', async () => {
    const head = await oci.req('HEAD', '/v2/up/team/multi/manifests/cold-head', {
      headers: { accept: types.dockerManifest },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(amd64.digest);
    expect(head.headers.get('content-type')).toBe(types.ociManifest);
  });

  it('pull manifests (content negotiation): Accept listing the index type gets the index', async () => {
    const r = await oci.req('GET', '/v2/up/team/multi/manifests/latest', {
      headers: { accept: `${types.dockerManifest}, ${types.ociIndex}` },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(types.ociIndex);
    expect(r.headers.get('docker-content-digest')).toBe(multi.index.digest);
    expect(r.body.equals(indexBytes)).toBe(true);
  });

  it('pull manifests (content negotiation): no Accept header gets the index', async () => {
    const r = await rawGet(`${orchard.url}/v2/up/team/multi/manifests/latest`);
    expect(r.sentAccept).toBeUndefined();
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(types.ociIndex);
    expect(r.headers['docker-content-digest']).toBe(multi.index.digest);
    expect(r.body.equals(indexBytes)).toBe(true);
  });

  it('pull manifests (content negotiation): by digest, a narrow Accept gets the index unchanged', async () => {
    const r = await oci.req('GET', `/v2/up/team/multi/manifests/${multi.index.digest}`, {
      headers: { accept: types.dockerManifest },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(types.ociIndex);
    expect(r.headers.get('docker-content-digest')).toBe(multi.index.digest);
    expect(r.body.equals(indexBytes)).toBe(true);
  });

  it('pull manifests (content negotiation): an index without linux/amd64 is MANIFEST_UNKNOWN', async () => {
    const r = await oci.req('GET', '/v2/up/team/noamd/manifests/latest', {
      headers: { accept: types.dockerManifest },
    });
    expect(r.status).toBe(404);
    expect(r.codes()).toEqual(['MANIFEST_UNKNOWN']);
    expect(r.body.toString()).toContain('no linux/amd64 manifest');
    const head = await oci.req('HEAD', '/v2/up/team/noamd/manifests/latest', {
      headers: { accept: types.ociManifest },
    });
    expect(head.status).toBe(404);
    // The index itself is still served to a client that takes it.
    const index = await oci.req('GET', '/v2/up/team/noamd/manifests/latest', {
      headers: { accept: types.ociIndex },
    });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe(types.ociIndex);
  });
});

/** A GET with no Accept header at all (fetch always adds one). */
function rawGet(
  url: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; sentAccept: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          sentAccept: req.getHeader('accept'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}
