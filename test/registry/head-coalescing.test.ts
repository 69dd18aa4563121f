import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountedPullThrough, startCountedPullThrough } from './lib/counted-pull-through.ts';
import type { CountingProxy } from './lib/counting-proxy.ts';
import type { DockerRegistry } from './lib/docker-registry.ts';
import type { Orchard } from './lib/orchard.ts';

const layerSize = 1024 * 1024;
/** The upstream answers this late, so all concurrent HEADs reach Orchard while the first is in flight. */
const holdMs = 1000;
const clients = 8;

/**
 * Concurrent HEADs of an object Orchard has not cached (spec "Pull", end-2/
 * end-3 existence checks; docker and containerd send them per layer) share
 * one upstream HEAD, success or failure, and the shared answer is never
 * reused once it is in: the next HEAD asks the upstream again. Counted at a
 * slow counting proxy in front of Debian's docker-registry.
 */
describe('coalescing cold HEAD probes', () => {
  let upstream: DockerRegistry;
  let counting: CountingProxy;
  let orchard: Orchard;
  let layer: string;
  let manifest: string;

  let fixture: CountedPullThrough;

  beforeAll(async () => {
    fixture = await startCountedPullThrough({ repo: 'team/app', layerSize, seed: 5, holdMs });
    ({ upstream, counting, orchard, layer, manifest } = fixture);
  }, 120_000);

  afterAll(async () => {
    await fixture?.close();
  });

  const head = async (path: string) => {
    const res = await request(`${orchard.url}/v2/up/team/app/${path}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    await res.body.dump();
    return {
      status: res.statusCode,
      length: res.headers['content-length'],
      digest: res.headers['docker-content-digest'],
    };
  };
  const heads = (path: string) => Promise.all(Array.from({ length: clients }, () => head(path)));

  it(`${clients} concurrent cold blob HEADs make 1 upstream HEAD; each gets the length and digest`, async () => {
    const blobPath = new RegExp(`/blobs/${layer}$`);
    const results = await heads(`blobs/${layer}`);
    for (const r of results) expect(r).toEqual({ status: 200, length: String(layerSize), digest: layer });
    expect(counting.count('HEAD', blobPath)).toBe(1);
    expect(counting.count('GET', blobPath)).toBe(0);
    // Over once answered: the next cold HEAD asks again.
    expect(await head(`blobs/${layer}`)).toEqual({ status: 200, length: String(layerSize), digest: layer });
    expect(counting.count('HEAD', blobPath)).toBe(2);
  });

  it(`${clients} concurrent cold manifest HEADs by tag make 1 upstream HEAD; each gets the digest`, async () => {
    const results = await heads('manifests/v1');
    for (const r of results) expect(r).toMatchObject({ status: 200, digest: manifest });
    expect(new Set(results.map((r) => r.length)).size).toBe(1);
    expect(counting.count('HEAD', /\/manifests\/v1$/)).toBe(1);
  });

  it('a failing upstream gives every waiter the same error; a later HEAD probes again', async () => {
    await upstream.stop();
    const blobPath = new RegExp(`/blobs/${layer}$`);
    const before = counting.count('HEAD', blobPath);
    const results = await heads(`blobs/${layer}`);
    const statuses = new Set(results.map((r) => r.status));
    expect(statuses.size).toBe(1);
    const [status] = statuses;
    expect(status).toBeGreaterThanOrEqual(500);
    expect(counting.count('HEAD', blobPath)).toBe(before + 1);
    // The failure was not kept: the upstream is back, and the next HEAD asks it.
    await upstream.restart();
    expect(await head(`blobs/${layer}`)).toEqual({ status: 200, length: String(layerSize), digest: layer });
    expect(counting.count('HEAD', blobPath)).toBe(before + 2);
  });
});
