import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { OciClient } from './lib/oci-client.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { type PagingProxy, startPagingProxy } from './lib/paging-proxy.ts';
import { pushManifest } from './lib/push.ts';

const tagCount = 150;
const allTags = Array.from({ length: tagCount }, (_, i) => `t${String(i).padStart(3, '0')}`);

type TagPage = { name: string; tags: string[] };

/**
 * Spec "Content discovery" (end-8a/8b) for pull-through remotes whose
 * upstream paginates its tag list. 150 tags of a tiny image are pushed to
 * Debian's docker-registry; since distribution 2.8 never paginates tags/list,
 * a proxy in front cuts its real list into distribution-3-style pages with
 * `Link: <…>; rel="next"`. Orchard follows the links, caches the whole list,
 * and pages it locally.
 */
describe('pull-through tag lists follow upstream pagination (spec: content discovery, end-8)', () => {
  let upstream: DockerRegistry;
  let paging: PagingProxy;
  let orchard: Orchard;
  const tagGets = (repo: string) =>
    paging.seen.filter((s) => s.startsWith(`GET /v2/${repo}/tags/list`)).length;

  beforeAll(async () => {
    upstream = await startDockerRegistry();
    paging = await startPagingProxy(upstream.url);
    for (const t of allTags) await pushManifest(upstream.url, 'many/app', t, []);
    orchard = await startOrchard({
      config:
        dockerRemote('up', { type: 'remote', baseUrl: paging.url }) +
        dockerRemote('tiny', { type: 'remote', baseUrl: paging.url }) +
        dockerRemote('away', { type: 'remote', baseUrl: paging.url }),
    });
  }, 180_000);

  afterAll(async () => {
    await orchard?.close();
    await paging?.close();
    await upstream?.stop();
  });

  it('merges every upstream page into one cached list (150 tags in pages of 50: 3 upstream GETs)', async () => {
    paging.pageSize = 50;
    paging.linkOrigin = '';
    const oci = new OciClient(orchard.url);
    const r = await oci.req('GET', '/v2/up/many/app/tags/list');
    expect(r.status).toBe(200);
    expect(r.json<TagPage>()).toEqual({ name: 'up/many/app', tags: allTags });
    expect(r.headers.get('link')).toBeNull();
    expect(tagGets('many/app')).toBe(3);
    await orchard.settled();
    // Cached whole: a second listing asks the upstream nothing.
    expect((await oci.req('GET', '/v2/up/many/app/tags/list')).json<TagPage>().tags).toHaveLength(tagCount);
    expect(tagGets('many/app')).toBe(3);
  });

  it('cuts pages locally with n/last and Link, from the cached whole list', async () => {
    const oci = new OciClient(orchard.url);
    const seen: string[] = [];
    let next: string | undefined = '/v2/up/many/app/tags/list?n=40';
    let pages = 0;
    while (next) {
      const r = await oci.req('GET', next);
      expect(r.status).toBe(200);
      seen.push(...r.json<TagPage>().tags);
      pages++;
      next = /^<([^>]+)>; rel="next"$/.exec(r.headers.get('link') ?? '')?.[1];
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(allTags);
    expect(tagGets('many/app')).toBe(3);
  });

  it('refuses more than 100 upstream pages with 502 and a clear OCI error', async () => {
    paging.pageSize = 1;
    paging.linkOrigin = '';
    const before = tagGets('many/app');
    const oci = new OciClient(orchard.url);
    const r = await oci.req('GET', '/v2/tiny/many/app/tags/list');
    expect(r.status).toBe(502);
    expect(r.codes()).toEqual(['UNKNOWN']);
    expect(r.json<{ errors: { message: string }[] }>().errors[0]!.message).toMatch(
      /tag list of remote tiny: more than 100 pages/,
    );
    expect(tagGets('many/app') - before).toBe(100);
  });

  it('does not follow a next link to another origin', async () => {
    paging.pageSize = 50;
    paging.linkOrigin = paging.url.replace('127.0.0.1', 'localhost');
    const before = tagGets('many/app');
    const oci = new OciClient(orchard.url);
    const r = await oci.req('GET', '/v2/away/many/app/tags/list');
    expect(r.status).toBe(502);
    expect(r.json<{ errors: { message: string }[] }>().errors[0]!.message).toMatch(
      /next link leaves the registry origin/,
    );
    expect(tagGets('many/app') - before).toBe(1);
  });
});
