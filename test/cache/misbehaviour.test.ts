import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../proxy/src/clock.ts';
import { MemoryCoordinator } from '../../proxy/src/coord/memory.ts';
import { blobKey } from '../../proxy/src/storage/blob-store.ts';
import { type Misbehaviour, TestUpstream } from '../upstreams/server.ts';
import { type CacheProxy, http, json, remoteDoc, secretDoc, startCacheProxy } from './harness.ts';

// Every misbehaviour the issue lists: the client gets an error (an aborted
// response, never a clean end) or a stale copy, and nothing wrong is cached.

// Each runs on the memory store (the store reads the spool through `put`) and
// on the fs store (the spool file is adopted by rename): two write paths, one contract.
describe.each(['memory', 'fs'] as const)('on the %s blob store', (store) => {
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const upstream = new TestUpstream();
  const elsewhere = new TestUpstream();
  const clock = new ManualClock(Date.UTC(2026, 3, 1));
  let proxy: CacheProxy;

  beforeAll(async () => {
    await Promise.all([upstream.start(), elsewhere.start()]);
    proxy = await startCacheProxy({
      blobs: store,
      clock,
      coord: new MemoryCoordinator({ clock }),
      env: { ORCHARD_UPSTREAM_IDLE_TIMEOUT_MS: '600', ORCHARD_UPSTREAM_HEADERS_TIMEOUT_MS: '600' },
      config: [
        remoteDoc('bad', {
          type: 'remote',
          package: 'generic',
          baseUrl: upstream.url,
          mutablePatterns: ['\\.json$'],
        }),
        remoteDoc('sums', {
          type: 'remote',
          package: 'generic',
          baseUrl: upstream.url,
          options: { checksumSidecar: true },
        }),
        remoteDoc('tolerant', {
          type: 'remote',
          package: 'generic',
          baseUrl: upstream.url,
          mutablePatterns: ['\\.json$'],
          staleOnError: ['network', '429', '5xx'],
          cache: { mutableTtl: 60 },
        }),
        remoteDoc('private', {
          type: 'remote',
          package: 'generic',
          baseUrl: upstream.url,
          auth: { secretRef: { name: 'private-creds' } },
        }),
        secretDoc('private-creds', { username: 'bob', password: 'hunter2-secret' }),
      ],
    });
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([upstream.close(), elsewhere.close()]);
  });
  afterEach(async () => {
    expect(await proxy.blobs.keys('tmp/')).toEqual([]);
    // No staged file outlives its fill, whatever happened to it.
    expect(await readdir(join(proxy.dataDir, 'blobs', '.tmp')).catch(() => [])).toEqual([]);
  });

  async function expectNothingCached(remote: string, path: string, content: Buffer): Promise<void> {
    expect(await proxy.engine.index.get(remote, path)).toBeUndefined();
    expect(await proxy.blobs.stat(blobKey(sha(content)))).toBeUndefined();
  }

  describe('a broken body aborts the response and caches nothing', () => {
    it.each<[string, Misbehaviour]>([
      ['truncated body', { kind: 'truncate', after: 1024 * 1024 }],
      ['Content-Length larger than the body', { kind: 'lie-length', contentLength: 2 * 1024 * 1024 + 1007 }],
      ['connection reset mid-body', { kind: 'reset', after: 512 * 1024 }],
      ['stalled body (idle timeout)', { kind: 'stall', after: 256 * 1024 }],
    ])('%s', async (name, fault) => {
      const path = `broken/${name.replace(/\W+/g, '-')}.bin`;
      // Distinct bytes per case: blobs are content-addressed, so a shared body would be found cached.
      const body = Buffer.alloc(2 * 1024 * 1024 + 7, name);
      upstream.set(`/${path}`, body);
      upstream.behave(`/${path}`, fault, 1);
      const r = await proxy.get('bad', path);
      // Cut before or after the response head: either way never a clean end.
      expect([0, 200]).toContain(r.status);
      expect(r.aborted).toBeDefined();
      expect(r.body.length).toBeLessThan(body.length);
      await expectNothingCached('bad', path, body);

      const retry = await proxy.get('bad', path);
      expect(retry.status).toBe(200);
      expect(retry.aborted).toBeUndefined();
      expect(retry.body.equals(body)).toBe(true);
      expect((await proxy.engine.index.get('bad', path))?.digest).toBe(sha(body));
      expect(upstream.count(`/${path}`)).toBe(2);
      // The fs store adopted the spool file; the memory store was put under a temporary key, then moved.
      const written = store === 'fs' ? proxy.blobs.adopts : proxy.blobs.moves.map(([, to]) => to);
      expect(written).toContain(blobKey(sha(body)));
    });
  });

  describe('integrity', () => {
    it('aborts and caches nothing when the bytes do not match the published .sha256', async () => {
      const good = Buffer.from('the real release\n'.repeat(50_000));
      upstream.set('/dl/tool.tar.gz', good);
      upstream.set('/dl/tool.tar.gz.sha256', `${sha(good)}  tool.tar.gz\n`);
      upstream.behave('/dl/tool.tar.gz', { kind: 'corrupt' }, 1);
      const before = await proxy.metric('orchard_integrity_failures_total', { remote: 'sums' });
      const r = await proxy.get('sums', 'dl/tool.tar.gz');
      expect(r.aborted).toBeDefined();
      // Held back until verified: the client never holds a complete (wrong) body.
      expect(r.body.length).toBeLessThan(good.length);
      expect(await proxy.metric('orchard_integrity_failures_total', { remote: 'sums' })).toBe(before + 1);
      expect(await proxy.engine.index.get('sums', 'dl/tool.tar.gz')).toBeUndefined();
      expect(await proxy.blobs.keys('blobs/')).not.toContain(blobKey(sha(r.body)));

      const ok = await proxy.get('sums', 'dl/tool.tar.gz');
      expect(ok.body.equals(good)).toBe(true);
      expect(ok.headers.etag).toBe(`"${sha(good)}"`);
    });

    it('catches a Content-Length shorter than the body when a digest is published', async () => {
      const good = Buffer.from('0123456789'.repeat(100));
      upstream.set('/dl/short.bin', good);
      upstream.set('/dl/short.bin.sha256', sha(good));
      upstream.behave('/dl/short.bin', { kind: 'lie-length', contentLength: 500 }, 1);
      const r = await proxy.get('sums', 'dl/short.bin');
      expect(r.aborted).toBeDefined();
      expect(await proxy.engine.index.get('sums', 'dl/short.bin')).toBeUndefined();
    });

    it('serves and caches normally when there is no sidecar', async () => {
      upstream.set('/dl/unsigned.bin', 'no checksum here');
      const r = await proxy.get('sums', 'dl/unsigned.bin');
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('no checksum here');
    });
  });

  describe('upstream error statuses', () => {
    it.each([429, 500, 503])(
      'a %d on a miss is a 502 naming the upstream status, not cached',
      async (status) => {
        const path = `status/${status}.bin`;
        upstream.set(`/${path}`, 'fine later');
        upstream.behave(`/${path}`, { kind: 'status', status }, 1);
        const r = await proxy.get('bad', path);
        expect(r.status).toBe(502);
        expect(json(r)).toMatchObject({ code: 'UPSTREAM_ERROR', detail: { upstream_status: status } });
        expect(await proxy.engine.index.get('bad', path)).toBeUndefined();
        expect((await proxy.get('bad', path)).body.toString()).toBe('fine later');
      },
    );

    it('serves an expired copy, marked stale, on 429/5xx when staleOnError lists them, and refreshes its TTL', async () => {
      upstream.set('/meta/a.json', '{"a":1}');
      await proxy.get('tolerant', 'meta/a.json');
      clock.advance(61_000);
      upstream.behave('/meta/a.json', { kind: 'status', status: 503 }, 1);
      const stale = await proxy.get('tolerant', 'meta/a.json');
      expect(stale.status).toBe(200);
      expect(stale.body.toString()).toBe('{"a":1}');
      expect(stale.headers['x-artifact-stale']).toBe('true');
      expect(stale.headers['x-artifact-source']).toBe('cache');
      expect(
        await proxy.metric('orchard_cache_requests_total', { remote: 'tolerant', result: 'stale' }),
      ).toBe(1);
      // TTL refreshed: the next request within it does not go upstream.
      const n = upstream.count('/meta/a.json');
      clock.advance(30_000);
      expect((await proxy.get('tolerant', 'meta/a.json')).headers['x-artifact-stale']).toBeUndefined();
      expect(upstream.count('/meta/a.json')).toBe(n);

      clock.advance(31_000);
      upstream.behave('/meta/a.json', { kind: 'status', status: 429 }, 1);
      expect((await proxy.get('tolerant', 'meta/a.json')).headers['x-artifact-stale']).toBe('true');
    });

    it('does not serve stale on a 5xx by default (the seed: HTTP errors expire normally)', async () => {
      upstream.set('/meta/b.json', '{"b":1}');
      await proxy.get('bad', 'meta/b.json');
      clock.advance(3601_000);
      upstream.behave('/meta/b.json', { kind: 'status', status: 500 }, 1);
      expect((await proxy.get('bad', 'meta/b.json')).status).toBe(502);
    });

    it("serves stale when the upstream is unreachable (the seed's stale-on-upstream-error)", async () => {
      const down = new TestUpstream();
      await down.start();
      down.set('/meta/c.json', '{"c":1}');
      proxy.setConfig([
        remoteDoc('flaky', {
          type: 'remote',
          package: 'generic',
          baseUrl: down.url,
          mutablePatterns: ['\\.json$'],
        }),
      ]);
      expect((await proxy.get('flaky', 'meta/c.json')).body.toString()).toBe('{"c":1}');
      await down.close();
      clock.advance(3601_000);
      const r = await proxy.get('flaky', 'meta/c.json');
      expect(r.status).toBe(200);
      expect(r.headers['x-artifact-stale']).toBe('true');
      expect(r.body.toString()).toBe('{"c":1}');
      const health = json(await http(`${proxy.url}/api/v1/remotes/flaky/stats`));
      expect(health).toMatchObject({ upstream_healthy: false, cached_objects: 1 });
      expect(String(health.last_upstream_error)).toMatch(/ECONNREFUSED|connect/);
      const missing = await proxy.get('flaky', 'meta/never-cached.json');
      expect(missing.status).toBe(502);
      expect(json(missing).code).toBe('UPSTREAM_UNREACHABLE');
    });
  });

  describe('redirects', () => {
    it('follows a redirect to another host without credentials and caches the result', async () => {
      proxy.setConfig([
        remoteDoc('private', {
          type: 'remote',
          package: 'generic',
          baseUrl: upstream.url,
          auth: { secretRef: { name: 'private-creds' } },
        }),
        secretDoc('private-creds', { username: 'bob', password: 'hunter2-secret' }),
      ]);
      elsewhere.set('/cdn/asset.bin', 'from the cdn');
      upstream.behave('/releases/asset.bin', { kind: 'redirect', to: `${elsewhere.url}/cdn/asset.bin` });
      const r = await proxy.get('private', 'releases/asset.bin');
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('from the cdn');
      const first = upstream.requests.filter((q) => q.path === '/releases/asset.bin').at(-1)!;
      expect(first.headers.authorization).toBe(
        `Basic ${Buffer.from('bob:hunter2-secret').toString('base64')}`,
      );
      const cdn = elsewhere.requests.filter((q) => q.path === '/cdn/asset.bin').at(-1)!;
      expect(cdn.headers.authorization).toBeUndefined();
      expect((await proxy.get('private', 'releases/asset.bin')).headers['x-artifact-source']).toBe('cache');
      expect(elsewhere.count('/cdn/asset.bin')).toBe(1);
      upstream.behave('/releases/asset.bin');
    });
  });
});
