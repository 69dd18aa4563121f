import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../proxy/src/clock.ts';
import { MemoryCoordinator } from '../../proxy/src/coord/memory.ts';
import { TestUpstream } from '../upstreams/server.ts';
import { type CacheProxy, json, remoteDoc, startCacheProxy } from './harness.ts';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const upstream = new TestUpstream();
const clock = new ManualClock(Date.UTC(2026, 3, 1));
let proxy: CacheProxy;

beforeAll(async () => {
  await upstream.start();
  proxy = await startCacheProxy({
    clock,
    coord: new MemoryCoordinator({ clock }),
    config: [
      remoteDoc('files', { type: 'remote', package: 'generic', baseUrl: upstream.url }),
      remoteDoc('guarded', {
        type: 'remote',
        package: 'generic',
        baseUrl: upstream.url,
        immutablePatterns: ['\\.tar\\.gz$'],
        mutablePatterns: ['index\\.json$'],
        checkMutableUpdates: true,
        cache: { immutableTtl: 0, mutableTtl: 60, negativeTtl: 30 },
      }),
      remoteDoc('refetch', {
        type: 'remote',
        package: 'generic',
        baseUrl: upstream.url,
        mutablePatterns: ['latest\\.txt$'],
        cache: { mutableTtl: 60 },
      }),
    ],
  });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});
afterEach(async () => {
  // Nothing a test does may leave half-written objects behind.
  expect(await proxy.blobs.keys('tmp/')).toEqual([]);
});

describe('hit and miss', () => {
  it('streams a miss from the upstream, then serves the same bytes from the cache', async () => {
    const body = Buffer.from('release 1.0 contents\n'.repeat(1000));
    upstream.set('/rel/app-1.0.tar.gz', { body, lastModified: new Date(Date.UTC(2025, 0, 1)) });
    const miss = await proxy.get('files', 'rel/app-1.0.tar.gz');
    expect(miss.status).toBe(200);
    expect(miss.headers['x-artifact-source']).toBe('remote');
    expect(miss.headers['content-length']).toBe(String(body.length));
    expect(miss.body.equals(body)).toBe(true);

    const hit = await proxy.get('files', 'rel/app-1.0.tar.gz');
    expect(hit.status).toBe(200);
    expect(hit.headers['x-artifact-source']).toBe('cache');
    expect(hit.body.equals(body)).toBe(true);
    expect(hit.headers.etag).toBe(`"${sha(body)}"`);
    expect(hit.headers['accept-ranges']).toBe('bytes');
    expect(hit.headers['content-length']).toBe(String(body.length));
    expect(hit.headers['last-modified']).toBe(new Date(Date.UTC(2025, 0, 1)).toUTCString());
    expect(upstream.count('/rel/app-1.0.tar.gz')).toBe(1);
    expect(
      await proxy.metric('orchard_cache_requests_total', { remote: 'files', result: 'hit' }),
    ).toBeGreaterThan(0);
  });

  it('serves Range, If-Range, If-None-Match, If-Modified-Since and HEAD from the cache', async () => {
    const body = Buffer.from('0123456789abcdefghij');
    upstream.set('/r/range.bin', { body, lastModified: new Date(Date.UTC(2025, 0, 2)) });
    await proxy.get('files', 'r/range.bin');
    const etag = `"${sha(body)}"`;

    const part = await proxy.get('files', 'r/range.bin', { headers: { range: 'bytes=5-9' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 5-9/${body.length}`);
    expect(part.body.toString()).toBe('56789');

    const suffix = await proxy.get('files', 'r/range.bin', { headers: { range: 'bytes=-3' } });
    expect(suffix.body.toString()).toBe('hij');

    const open = await proxy.get('files', 'r/range.bin', { headers: { range: 'bytes=18-' } });
    expect(open.status).toBe(206);
    expect(open.body.toString()).toBe('ij');

    const ifRangeOk = await proxy.get('files', 'r/range.bin', {
      headers: { range: 'bytes=0-1', 'if-range': etag },
    });
    expect(ifRangeOk.status).toBe(206);
    const ifRangeStale = await proxy.get('files', 'r/range.bin', {
      headers: { range: 'bytes=0-1', 'if-range': '"other"' },
    });
    expect(ifRangeStale.status).toBe(200);
    expect(ifRangeStale.body.equals(body)).toBe(true);

    const unsatisfiable = await proxy.get('files', 'r/range.bin', { headers: { range: 'bytes=20-' } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe(`bytes */${body.length}`);

    const notModified = await proxy.get('files', 'r/range.bin', { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    const weak = await proxy.get('files', 'r/range.bin', { headers: { 'if-none-match': `"x", W/${etag}` } });
    expect(weak.status).toBe(304);
    const ims = await proxy.get('files', 'r/range.bin', {
      headers: { 'if-modified-since': new Date(Date.UTC(2025, 0, 3)).toUTCString() },
    });
    expect(ims.status).toBe(304);

    const head = await proxy.get('files', 'r/range.bin', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(body.length));
    expect(head.headers['x-artifact-source']).toBe('cache');
    expect(head.body.length).toBe(0);
    expect(upstream.count('/r/range.bin')).toBe(1);
  });

  it('fetches a miss once for many concurrent clients in one process', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 9);
    upstream.set('/c/concurrent.bin', body);
    upstream.behave('/c/concurrent.bin', { kind: 'slow', bytesPerSecond: 20 * 1024 * 1024 }, 1);
    const before = await proxy.metric('orchard_singleflight_followers_total', { remote: 'files' });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => proxy.get('files', 'c/concurrent.bin')),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(sha(r.body)).toBe(sha(body));
    }
    expect(upstream.count('/c/concurrent.bin')).toBe(1);
    expect(await proxy.metric('orchard_singleflight_followers_total', { remote: 'files' })).toBe(before + 9);
  });
});

describe('access control', () => {
  it.each([
    ['dot-dot', 'a/../b.tar.gz'],
    ['encoded dot-dot', 'a/%2e%2e/b.tar.gz'],
    ['encoded slash', 'a%2f..%2fb.tar.gz'],
    ['backslash', 'a\\..\\b.tar.gz'],
    ['encoded NUL', 'a%00.tar.gz'],
    ['empty segment', 'a//b.tar.gz'],
    ['absolute path', '/etc/passwd'],
  ])('rejects a %s with 400 before touching the store or the upstream', async (_name, path) => {
    const before = upstream.requests.length;
    const gets = proxy.blobs.gets.length;
    const r = await proxy.get('guarded', path);
    expect(r.status).toBe(400);
    expect(json(r).code).toBe('INVALID_PATH');
    expect(upstream.requests.length).toBe(before);
    expect(proxy.blobs.gets.length).toBe(gets);
  });

  it('answers 403 for a path matching no pattern and counts it', async () => {
    const r = await proxy.get('guarded', 'docs/readme.md');
    expect(r.status).toBe(403);
    expect(json(r).code).toBe('PATH_NOT_ALLOWED');
    expect(upstream.count('/docs/readme.md')).toBe(0);
    expect(
      await proxy.metric('orchard_cache_requests_total', { remote: 'guarded', result: 'forbidden' }),
    ).toBe(1);
  });

  it('answers 404 for an unknown remote', async () => {
    const r = await proxy.get('nope', 'x');
    expect(r.status).toBe(404);
    expect(json(r).code).toBe('REMOTE_NOT_FOUND');
  });
});

describe('negative cache', () => {
  it('remembers an upstream 404 for negativeTtl', async () => {
    const first = await proxy.get('guarded', 'gone/x-1.tar.gz');
    expect(first.status).toBe(404);
    for (let i = 0; i < 5; i++) expect((await proxy.get('guarded', 'gone/x-1.tar.gz')).status).toBe(404);
    expect(upstream.count('/gone/x-1.tar.gz')).toBe(1);
    expect(
      await proxy.metric('orchard_cache_requests_total', { remote: 'guarded', result: 'negative' }),
    ).toBe(5);

    upstream.set('/gone/x-1.tar.gz', 'now it exists');
    clock.advance(31_000);
    const later = await proxy.get('guarded', 'gone/x-1.tar.gz');
    expect(later.status).toBe(200);
    expect(later.body.toString()).toBe('now it exists');
    expect(upstream.count('/gone/x-1.tar.gz')).toBe(2);
  });
});

describe('TTLs and revalidation', () => {
  it('revalidates user-defined mutable content with a conditional request; 304 refreshes the TTL', async () => {
    upstream.set('/meta/index.json', { body: Buffer.from('{"v":1}'), etag: '"v1"' });
    expect((await proxy.get('guarded', 'meta/index.json')).body.toString()).toBe('{"v":1}');
    expect((await proxy.get('guarded', 'meta/index.json')).headers['x-artifact-source']).toBe('cache');
    expect(upstream.count('/meta/index.json')).toBe(1);

    clock.advance(61_000);
    const revalidated = await proxy.get('guarded', 'meta/index.json');
    expect(revalidated.body.toString()).toBe('{"v":1}');
    expect(revalidated.headers['x-artifact-source']).toBe('cache');
    expect(upstream.count('/meta/index.json')).toBe(2);
    const conditional = upstream.requests.filter((r) => r.path === '/meta/index.json').at(-1)!;
    expect(conditional.headers['if-none-match']).toBe('"v1"');
    expect(
      await proxy.metric('orchard_cache_requests_total', { remote: 'guarded', result: 'revalidated' }),
    ).toBe(1);

    // The 304 restarted the TTL: no upstream request within it.
    clock.advance(30_000);
    await proxy.get('guarded', 'meta/index.json');
    expect(upstream.count('/meta/index.json')).toBe(2);

    upstream.set('/meta/index.json', { body: Buffer.from('{"v":2}'), etag: '"v2"' });
    clock.advance(31_000);
    expect((await proxy.get('guarded', 'meta/index.json')).body.toString()).toBe('{"v":2}');
    expect((await proxy.get('guarded', 'meta/index.json')).body.toString()).toBe('{"v":2}');
    expect(upstream.count('/meta/index.json')).toBe(3);
  });

  it('re-fetches mutable content unconditionally when checkMutableUpdates is off', async () => {
    upstream.set('/latest.txt', { body: Buffer.from('one'), etag: '"1"' });
    await proxy.get('refetch', 'latest.txt');
    clock.advance(61_000);
    upstream.set('/latest.txt', { body: Buffer.from('two'), etag: '"2"' });
    expect((await proxy.get('refetch', 'latest.txt')).body.toString()).toBe('two');
    const last = upstream.requests.filter((r) => r.path === '/latest.txt').at(-1)!;
    expect(last.headers['if-none-match']).toBeUndefined();
  });

  it('keeps immutable content forever when immutableTtl is 0', async () => {
    upstream.set('/keep/v1.tar.gz', 'v1');
    await proxy.get('guarded', 'keep/v1.tar.gz');
    clock.advance(400 * 24 * 3600 * 1000);
    upstream.set('/keep/v1.tar.gz', 'changed upstream');
    expect((await proxy.get('guarded', 'keep/v1.tar.gz')).body.toString()).toBe('v1');
    expect(upstream.count('/keep/v1.tar.gz')).toBe(1);
  });
});
