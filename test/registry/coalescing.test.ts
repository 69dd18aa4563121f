import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountedPullThrough, startCountedPullThrough } from './lib/counted-pull-through.ts';
import type { CountingProxy } from './lib/counting-proxy.ts';
import type { Orchard } from './lib/orchard.ts';

const layerSize = 256 * 1024 * 1024;

/**
 * Eight clients pull the same cold 256 MiB layer at once: the caching engine
 * coalesces them onto one upstream GET (distribution's own pull-through cache
 * makes one per client; see test/bench/registry.bench.ts). Every client gets
 * the right bytes, streamed while the single fill runs.
 */
describe('coalescing cold pulls of one layer', () => {
  let counting: CountingProxy;
  let orchard: Orchard;
  let digest: string;

  let fixture: CountedPullThrough;

  beforeAll(async () => {
    fixture = await startCountedPullThrough({ repo: 'big/layer', layerSize, seed: 7 });
    ({ counting, orchard, layer: digest } = fixture);
  }, 180_000);

  afterAll(async () => {
    await fixture?.close();
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
