import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../proxy/src/clock.ts';
import { MemoryCoordinator } from '../../proxy/src/coord/memory.ts';
import { TestUpstream } from '../upstreams/server.ts';
import { type CacheProxy, http, json, remoteDoc, startCacheProxy } from './harness.ts';

// PUT /cache/flush?remote=&pattern=&mutable_only=&all= and the stats endpoint.

const upstream = new TestUpstream();
const clock = new ManualClock(Date.UTC(2026, 3, 1));
let proxy: CacheProxy;
const spec = (mutable: string[]) => ({
  type: 'remote',
  package: 'generic',
  baseUrl: upstream.url,
  mutablePatterns: mutable,
  checkMutableUpdates: true,
  cache: { mutableTtl: 600 },
});

beforeAll(async () => {
  await upstream.start();
  proxy = await startCacheProxy({
    clock,
    coord: new MemoryCoordinator({ clock }),
    config: [
      remoteDoc('a', spec(['\\.json$'])),
      remoteDoc('b', spec([])),
      remoteDoc('hosted', { type: 'local', package: 'generic' }),
    ],
  });
  for (const p of ['/x.bin', '/y.bin', '/meta.json', '/other.json'])
    upstream.set(p, { body: Buffer.from(p), etag: `"${p}"` });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

async function warm(): Promise<void> {
  for (const r of ['a', 'b'])
    for (const p of ['x.bin', 'y.bin', 'meta.json', 'other.json']) await proxy.get(r, p);
  upstream.requests.length = 0;
}

const flush = async (query: string) => http(`${proxy.url}/cache/flush?${query}`, { method: 'PUT' });
const source = async (r: string, p: string) => (await proxy.get(r, p)).headers['x-artifact-source'];

describe('PUT /cache/flush', () => {
  beforeEach(warm);

  it('drops every entry of one remote and leaves the others', async () => {
    const r = await flush('remote=a');
    expect(r.status).toBe(200);
    expect(json(r)).toMatchObject({ remotes: ['a'], entries_deleted: 4, ttl_keys_deleted: 2 });
    expect(await source('a', 'x.bin')).toBe('remote');
    expect(await source('b', 'x.bin')).toBe('cache');
  });

  it('drops only the paths matching a pattern', async () => {
    const r = await flush(`remote=a&pattern=${encodeURIComponent('^x\\.')}`);
    expect(json(r)).toMatchObject({ entries_deleted: 1, ttl_keys_deleted: 0 });
    expect(await source('a', 'x.bin')).toBe('remote');
    expect(await source('a', 'y.bin')).toBe('cache');
  });

  it('with mutable_only drops TTL state, so mutable entries revalidate while immutable ones stay', async () => {
    const r = await flush('remote=a&mutable_only=true');
    expect(json(r)).toMatchObject({ entries_deleted: 0, ttl_keys_deleted: 2 });
    await proxy.get('a', 'meta.json');
    const conditional = upstream.requests.find((q) => q.path === '/meta.json');
    expect(conditional?.headers['if-none-match']).toBe('"/meta.json"');
    expect(await source('a', 'x.bin')).toBe('cache');
  });

  it('with all=true drops every remote', async () => {
    const r = await flush('all=true');
    expect(json(r)).toMatchObject({ remotes: ['a', 'b'], entries_deleted: 8 });
    expect(await source('b', 'y.bin')).toBe('remote');
  });

  it('forgets remembered 404s', async () => {
    await proxy.get('a', 'missing.bin');
    upstream.set('/missing.bin', 'appeared');
    expect((await proxy.get('a', 'missing.bin')).status).toBe(404);
    expect(json(await flush('remote=a'))).toMatchObject({ negative_keys_deleted: 1 });
    expect((await proxy.get('a', 'missing.bin')).status).toBe(200);
  });

  it.each([
    ['no remote', '', 400, 'BAD_REQUEST'],
    ['an unknown remote', 'remote=nope', 404, 'REMOTE_NOT_FOUND'],
    ['a local remote', 'remote=hosted', 400, 'BAD_REQUEST'],
    ['an invalid pattern', `remote=a&pattern=${encodeURIComponent('(')}`, 400, 'BAD_REQUEST'],
  ])('refuses %s', async (_name, query, status, code) => {
    const r = await flush(query);
    expect(r.status).toBe(status);
    expect(json(r).code).toBe(code);
  });
});

describe('GET /api/v1/remotes/{remote}/stats', () => {
  it('reports cached objects and bytes and upstream health', async () => {
    await flush('all=true');
    await proxy.get('b', 'x.bin');
    await proxy.get('b', 'meta.json');
    const r = json(await http(`${proxy.url}/api/v1/remotes/b/stats`));
    expect(r).toEqual({
      remote: 'b',
      cached_objects: 2,
      cached_bytes: '/x.bin'.length + '/meta.json'.length,
      last_upstream_error: null,
      last_upstream_error_at: null,
      upstream_healthy: true,
    });
    expect((await http(`${proxy.url}/api/v1/remotes/nope/stats`)).status).toBe(404);
  });
});
