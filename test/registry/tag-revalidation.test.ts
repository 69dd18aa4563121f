import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { type CountingProxy, startCountingProxy } from './lib/counting-proxy.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { OciClient } from './lib/oci-client.ts';
import { type BuiltImage, OciLayout } from './lib/oci-layout.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { skopeoCopy } from './lib/skopeo.ts';

const manifestAccept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

/**
 * Tags are mutable with the remote's TTL; once it lapses the tag manifest
 * is revalidated with HEAD (which Docker Hub does not count as a pull) and
 * only fetched again with GET when its digest changed. Digests stay cached.
 */
describe('tag manifests: TTL and HEAD revalidation against docker-registry', () => {
  let upstream: DockerRegistry;
  let counting: CountingProxy;
  let orchard: Orchard;
  let src: OciLayout;
  let first: BuiltImage;
  let oci: OciClient;

  beforeAll(async () => {
    upstream = await startDockerRegistry();
    counting = await startCountingProxy(upstream.url);
    src = await OciLayout.create(await tmpDir('oci-tags-'));
    first = await src.image({ tag: 'one', layers: [[{ name: 'f', content: 'first\n' }]] });
    await skopeoCopy(`oci:${src.dir}:one`, `docker://${upstream.host}/team/app:latest`);
    orchard = await startOrchard({
      config: dockerRemote('up', { type: 'remote', baseUrl: counting.url, cache: { mutableTtl: 1 } }),
    });
    oci = new OciClient(orchard.url);
  }, 120_000);

  afterAll(async () => {
    await orchard?.close();
    await counting?.close();
    await upstream?.stop();
  });

  const getLatest = () =>
    oci.req('GET', '/v2/up/team/app/manifests/latest', { headers: { accept: manifestAccept } });
  const upstreamGets = () => counting.count('GET', /\/manifests\/latest$/);
  const upstreamHeads = () => counting.count('HEAD', /\/manifests\/latest$/);

  it('serves a fresh tag from the cache without asking the upstream', async () => {
    expect((await getLatest()).headers.get('docker-content-digest')).toBe(first.manifest.digest);
    await orchard.settled();
    expect((await getLatest()).headers.get('x-artifact-source')).toBe('cache');
    expect([upstreamGets(), upstreamHeads()]).toEqual([1, 0]);
  });

  it('after the TTL, an unchanged tag costs one HEAD and no GET', async () => {
    await new Promise((r) => setTimeout(r, 1200));
    const r = await getLatest();
    expect(r.status).toBe(200);
    expect(r.headers.get('docker-content-digest')).toBe(first.manifest.digest);
    expect([upstreamGets(), upstreamHeads()]).toEqual([1, 1]);
    expect((await getLatest()).headers.get('x-artifact-source')).toBe('cache');
    expect(upstreamHeads()).toBe(1);
  });

  it('after the TTL, a moved tag is fetched again and served with its new digest', async () => {
    const second = await src.image({ tag: 'two', layers: [[{ name: 'f', content: 'second\n' }]] });
    await skopeoCopy(`oci:${src.dir}:two`, `docker://${upstream.host}/team/app:latest`);
    await new Promise((r) => setTimeout(r, 1200));
    const r = await getLatest();
    expect(r.headers.get('docker-content-digest')).toBe(second.manifest.digest);
    expect([upstreamGets(), upstreamHeads()]).toEqual([2, 2]);
    // The old manifest stays available by digest: digests are immutable.
    const old = await oci.req('GET', `/v2/up/team/app/manifests/${first.manifest.digest}`, {
      headers: { accept: manifestAccept },
    });
    expect(old.status).toBe(200);
  });

  it('an expired tag is served stale when the upstream is unreachable (staleOnError: network)', async () => {
    await orchard.settled();
    await upstream.stop();
    await new Promise((r) => setTimeout(r, 1200));
    const r = await getLatest();
    const seen = `${r.status} source=${r.headers.get('x-artifact-source')} upstream=${counting.seen.slice(-3).join(', ')}`;
    expect(r.status, seen).toBe(200);
    expect(r.headers.get('x-artifact-stale'), seen).toBe('true');
  });
});
