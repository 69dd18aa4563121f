import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingProxy, startCountingProxy } from './lib/counting-proxy.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { pseudoRandom, pushBlobStream, pushManifest } from './lib/push.ts';

const layerSize = 256 * 1024 * 1024;

/**
 * Eight clients pull the same cold 256 MiB layer at once: the caching engine
 * coalesces them onto one upstream GET (distribution's own pull-through cache
 * makes one per client; see test/bench/registry.bench.ts). Every client gets
 * the right bytes, streamed while the single fill runs.
 */
describe('coalescing cold pulls of one layer', () => {
  let upstream: DockerRegistry;
  let counting: CountingProxy;
  let orchard: Orchard;
  let digest: string;

  beforeAll(async () => {
    upstream = await startDockerRegistry();
    counting = await startCountingProxy(upstream.url);
    digest = await pushBlobStream(upstream.url, 'big/layer', layerSize, () => pseudoRandom(layerSize, 7));
    await pushManifest(upstream.url, 'big/layer', 'v1', [{ digest, size: layerSize }]);
    orchard = await startOrchard({ config: dockerRemote('up', { type: 'remote', baseUrl: counting.url }) });
  }, 180_000);

  afterAll(async () => {
    await orchard?.close();
    await counting?.close();
    await upstream?.stop();
  });

  it('8 concurrent cold pulls of a 256 MiB layer make exactly 1 upstream blob GET', async () => {
    const pull = async () => {
      const res = await request(`${orchard.url}/v2/up/big/layer/blobs/${digest}`);
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of res.body) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      return { status: res.statusCode, size, digest: `sha256:${hash.digest('hex')}` };
    };
    const results = await Promise.all(Array.from({ length: 8 }, pull));
    for (const r of results) expect(r).toEqual({ status: 200, size: layerSize, digest });
    expect(counting.count('GET', new RegExp(`/blobs/${digest}$`))).toBe(1);
    await orchard.settled();
    const again = await pull();
    expect(again.digest).toBe(digest);
    expect(counting.count('GET', new RegExp(`/blobs/${digest}$`))).toBe(1);
  }, 180_000);
});
