import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { OciClient } from './lib/oci-client.ts';
import { type BuiltImage, OciLayout } from './lib/oci-layout.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { skopeoCopy } from './lib/skopeo.ts';

type Catalog = { repositories: string[] };

/**
 * `GET /v2/_catalog` (distribution's "Listing Repositories", the catalog
 * counterpart of the spec's content discovery, end-8): skopeo pushes to two
 * hosted remotes and pulls through a pull-through remote and a docker.io
 * mirror of Debian's docker-registry; the catalog lists `{remote}/{name}` for
 * all of them, in lexical order, paged with n/last and Link.
 */
describe('GET /v2/_catalog (content discovery)', () => {
  let upstream: DockerRegistry;
  let orchard: Orchard;
  let image: BuiltImage;
  const expected = ['hosted/team/app', 'hosted/zeta', 'hub/library/hello', 'store/a/b/c', 'up/team/app'];

  beforeAll(async () => {
    upstream = await startDockerRegistry();
    const src = await OciLayout.create(await tmpDir('oci-catalog-'));
    image = await src.image({ tag: 'v1', layers: [[{ name: 'c.txt', content: 'catalog\n' }]] });
    for (const repo of ['team/app', 'team/other', 'library/hello'])
      await skopeoCopy(`oci:${src.dir}:v1`, `docker://${upstream.host}/${repo}:v1`);
    orchard = await startOrchard({
      config:
        dockerRemote('up', { type: 'remote', baseUrl: upstream.url }) +
        dockerRemote('hub', { type: 'remote', baseUrl: upstream.url, mirrorOf: ['docker.io'] }) +
        dockerRemote('hosted', { type: 'local' }) +
        dockerRemote('store', { type: 'local' }),
    });
    for (const dest of ['hosted/team/app', 'hosted/zeta', 'store/a/b/c'])
      await skopeoCopy(`oci:${src.dir}:v1`, `docker://${orchard.host}/${dest}:v1`);
    await skopeoCopy(`docker://${orchard.host}/up/team/app:v1`, `oci:${await tmpDir('oci-out-')}:v1`);
    // Mirror mode, one segment: Docker Hub's library/ rule names the cached repository.
    await skopeoCopy(`docker://${orchard.host}/hub/hello:v1`, `oci:${await tmpDir('oci-out-')}:v1`);
    await orchard.settled();
  }, 180_000);

  afterAll(async () => {
    await orchard?.close();
    await upstream?.stop();
  });

  it('lists hosted repositories and those pull-through remotes have cached, sorted, without Link', async () => {
    // A HEAD stores nothing, so it does not put team/other into the catalog.
    const oci = new OciClient(orchard.url);
    const head = await oci.req('HEAD', `/v2/up/team/other/blobs/${image.layers[0]!.digest}`);
    expect(head.status).toBe(200);
    const r = await oci.req('GET', '/v2/_catalog');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json<Catalog>()).toEqual({ repositories: expected });
    expect(r.headers.get('link')).toBeNull();
  });

  it('pages with n and last, following Link to the end', async () => {
    const oci = new OciClient(orchard.url);
    const seen: string[] = [];
    const links: (string | null)[] = [];
    let next: string | undefined = '/v2/_catalog?n=2';
    while (next) {
      const r = await oci.req('GET', next);
      expect(r.status).toBe(200);
      seen.push(...r.json<Catalog>().repositories);
      links.push(r.headers.get('link'));
      next = /^<([^>]+)>; rel="next"$/.exec(r.headers.get('link') ?? '')?.[1];
    }
    expect(seen).toEqual(expected);
    expect(links).toEqual([
      `</v2/_catalog?n=2&last=${encodeURIComponent('hosted/zeta')}>; rel="next"`,
      `</v2/_catalog?n=2&last=${encodeURIComponent('store/a/b/c')}>; rel="next"`,
      null,
    ]);
    const after = await oci.req('GET', '/v2/_catalog?last=hub/library/hello');
    expect(after.json<Catalog>().repositories).toEqual(['store/a/b/c', 'up/team/app']);
  });

  it('n=0 is an empty list without Link; a malformed n is 400; other methods are 405', async () => {
    const oci = new OciClient(orchard.url);
    const zero = await oci.req('GET', '/v2/_catalog?n=0');
    expect(zero.json<Catalog>()).toEqual({ repositories: [] });
    expect(zero.headers.get('link')).toBeNull();
    const bad = await oci.req('GET', '/v2/_catalog?n=lots');
    expect(bad.status).toBe(400);
    expect(bad.codes()).toEqual(['UNSUPPORTED']);
    const post = await oci.req('POST', '/v2/_catalog');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('drops a hosted repository once it holds nothing', async () => {
    const oci = new OciClient(orchard.url);
    const del = await oci.req('DELETE', `/v2/store/a/b/c/manifests/${image.manifest.digest}`);
    expect(del.status).toBe(202);
    for (const d of [image.config, ...image.layers])
      expect((await oci.req('DELETE', `/v2/store/a/b/c/blobs/${d.digest}`)).status).toBe(202);
    const r = await oci.req('GET', '/v2/_catalog');
    expect(r.json<Catalog>().repositories).toEqual(expected.filter((n) => n !== 'store/a/b/c'));
  });
});
