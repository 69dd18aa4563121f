import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../proxy/src/clock.ts';
import { MemoryCoordinator } from '../../proxy/src/coord/memory.ts';
import { getFormat } from '../../proxy/src/formats/index.ts';
import { TestUpstream } from '../upstreams/server.ts';
import { type CacheProxy, json, remoteDoc, startCacheProxy } from './harness.ts';
import { testIndexFormat } from './index-format.ts';

// Quarantine (issue 4, item 9) and the format hooks it rests on: index
// rewriting at fill time, artifact hints (digests and publish dates), and
// quarantined versions hidden from indexes.

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const day = 24 * 3600 * 1000;
const upstream = new TestUpstream();
const clock = new ManualClock(Date.UTC(2026, 5, 1));
const daysAgo = (n: number) => new Date(clock.now() - n * day);
let proxy: CacheProxy;

const quarantined = {
  type: 'remote',
  package: 'generic',
  baseUrl: '',
  immutablePatterns: ['\\.whl$'],
  mutablePatterns: ['^simple/'],
  quarantine: { days: 3, exemptPatterns: ['^internal/'] },
};

const docs = (quar: Record<string, unknown>) => [
  remoteDoc('quar', quar),
  remoteDoc('idx', {
    type: 'remote',
    package: 'helm',
    baseUrl: upstream.url,
    immutablePatterns: ['\\.tgz$'],
    quarantine: { days: 3 },
  }),
];

beforeAll(async () => {
  await upstream.start();
  quarantined.baseUrl = upstream.url;
  proxy = await startCacheProxy({
    clock,
    coord: new MemoryCoordinator({ clock }),
    // `helm` remotes are served by the test index format here; every other type as usual.
    formatFor: (p) => (p === 'helm' ? testIndexFormat : getFormat(p)),
    config: docs(quarantined),
  });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

describe('quarantine by Last-Modified', () => {
  it('refuses an artifact published within the window with an explanatory 404, without asking again', async () => {
    upstream.set('/pkgs/new-1.0.whl', { body: Buffer.from('new'), lastModified: daysAgo(1) });
    const r = await proxy.get('quar', 'pkgs/new-1.0.whl');
    expect(r.status).toBe(404);
    const body = json(r);
    expect(body.code).toBe('QUARANTINED');
    expect(body.detail).toMatchObject({ remote: 'quar', quarantine_days: 3 });
    expect(new Date(String((body.detail as Record<string, unknown>).available_at)).getTime()).toBe(
      Math.floor(daysAgo(1).getTime() / 1000) * 1000 + 3 * day,
    );
    expect(await proxy.engine.index.get('quar', 'pkgs/new-1.0.whl')).toBeUndefined();
    expect((await proxy.get('quar', 'pkgs/new-1.0.whl')).status).toBe(404);
    expect(upstream.count('/pkgs/new-1.0.whl')).toBe(1);
    expect(
      await proxy.metric('orchard_cache_requests_total', { remote: 'quar', result: 'quarantined' }),
    ).toBe(2);
  });

  it('releases it once the window has passed', async () => {
    upstream.set('/pkgs/soon-1.0.whl', { body: Buffer.from('soon'), lastModified: daysAgo(2) });
    expect((await proxy.get('quar', 'pkgs/soon-1.0.whl')).status).toBe(404);
    clock.advance(1.5 * day);
    const r = await proxy.get('quar', 'pkgs/soon-1.0.whl');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('soon');
  });

  it.each([
    ['an old artifact', 'pkgs/old-1.0.whl', daysAgo(30)],
    ['an artifact without Last-Modified (fail open)', 'pkgs/undated-1.0.whl', undefined],
    ['an exempt path', 'internal/mine-1.0.whl', daysAgo(0)],
    ['a mutable index', 'simple/pkg/', daysAgo(0)],
  ])('lets through %s', async (_name, path, lastModified) => {
    upstream.set(`/${path}`, { body: Buffer.from(path), lastModified });
    const r = await proxy.get('quar', path);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(path);
  });

  it('refuses a cached artifact when quarantine is switched on later', async () => {
    proxy.setConfig(docs({ ...quarantined, quarantine: undefined }));
    upstream.set('/pkgs/cached-1.0.whl', { body: Buffer.from('c'), lastModified: daysAgo(1) });
    expect((await proxy.get('quar', 'pkgs/cached-1.0.whl')).status).toBe(200);
    proxy.setConfig(docs(quarantined));
    const r = await proxy.get('quar', 'pkgs/cached-1.0.whl');
    expect(r.status).toBe(404);
    expect(json(r).code).toBe('QUARANTINED');
    expect(upstream.count('/pkgs/cached-1.0.whl')).toBe(1);
  });
});

describe('index documents and artifact hints', () => {
  const good = Buffer.from('chart 1.0 bytes');
  const fresh = Buffer.from('chart 2.0 bytes');
  beforeAll(() => {
    upstream.set('/charts/index.json', {
      body: Buffer.from(
        JSON.stringify({
          files: [
            { name: 'app-1.0.tgz', sha256: sha(good), published: daysAgo(100).toISOString() },
            { name: 'app-2.0.tgz', sha256: sha(fresh), published: daysAgo(1).toISOString() },
            {
              name: 'evil-1.0.tgz',
              sha256: sha('what the index promised'),
              published: daysAgo(100).toISOString(),
            },
          ],
        }),
      ),
      contentType: 'application/json',
    });
    upstream.set('/charts/app-1.0.tgz', good);
    upstream.set('/charts/app-2.0.tgz', fresh);
    upstream.set('/charts/evil-1.0.tgz', 'something else entirely');
  });

  it('rewrites the index once at fill time, hides quarantined versions, and serves stored bytes on hits', async () => {
    const r = await proxy.get('idx', 'charts/index.json');
    expect(r.status).toBe(200);
    const doc = json(r) as { files: { name: string; url: string }[] };
    expect(doc.files.map((f) => f.name)).toEqual(['app-1.0.tgz', 'evil-1.0.tgz']);
    expect(doc.files[0]!.url).toBe(`${proxy.url}/api/v1/remote/idx/charts/app-1.0.tgz`);
    const hit = await proxy.get('idx', 'charts/index.json');
    expect(hit.headers['x-artifact-source']).toBe('cache');
    expect(hit.body.equals(r.body)).toBe(true);
    expect(upstream.count('/charts/index.json')).toBe(1);
  });

  it('verifies an artifact against the digest its index published', async () => {
    await proxy.get('idx', 'charts/index.json');
    expect((await proxy.get('idx', 'charts/app-1.0.tgz')).body.equals(good)).toBe(true);
    const bad = await proxy.get('idx', 'charts/evil-1.0.tgz');
    expect(bad.aborted).toBeDefined();
    expect(await proxy.engine.index.get('idx', 'charts/evil-1.0.tgz')).toBeUndefined();
    expect(await proxy.metric('orchard_integrity_failures_total', { remote: 'idx' })).toBe(1);
  });

  it('quarantines by the index publish date without contacting the upstream', async () => {
    await proxy.get('idx', 'charts/index.json');
    const r = await proxy.get('idx', 'charts/app-2.0.tgz');
    expect(r.status).toBe(404);
    expect(json(r).code).toBe('QUARANTINED');
    expect(upstream.count('/charts/app-2.0.tgz')).toBe(0);
  });

  it('answers 502 and caches nothing for an index the format cannot read or that is too large', async () => {
    upstream.set('/broken/index.json', '{"files": 42}');
    const malformed = await proxy.get('idx', 'broken/index.json');
    expect(malformed.status).toBe(502);
    expect(String(json(malformed).error)).toContain('malformed');
    upstream.set('/huge/index.json', JSON.stringify({ files: [], pad: 'x'.repeat(70 * 1024) }));
    const huge = await proxy.get('idx', 'huge/index.json');
    expect(huge.status).toBe(502);
    expect(await proxy.engine.index.get('idx', 'broken/index.json')).toBeUndefined();
    expect(await proxy.engine.index.get('idx', 'huge/index.json')).toBeUndefined();
  });

  it('fills the index first when an artifact is requested before it (a lockfile install)', async () => {
    const files = [
      { name: 'lib-1.0.tgz', sha256: sha('lib 1.0'), published: daysAgo(100).toISOString() },
      { name: 'lib-2.0.tgz', sha256: sha('lib 2.0'), published: daysAgo(1).toISOString() },
      { name: 'bad-1.0.tgz', sha256: sha('promised'), published: daysAgo(100).toISOString() },
    ];
    upstream.set('/lock/index.json', JSON.stringify({ files }));
    upstream.set('/lock/lib-1.0.tgz', 'lib 1.0');
    upstream.set('/lock/lib-2.0.tgz', 'lib 2.0');
    upstream.set('/lock/bad-1.0.tgz', 'delivered');
    expect((await proxy.get('idx', 'lock/lib-1.0.tgz')).body.toString()).toBe('lib 1.0');
    expect(upstream.count('/lock/index.json')).toBe(1);
    expect(upstream.requests.find((q) => q.path === '/lock/index.json')?.headers['x-test-index']).toBe('1');
    expect((await proxy.get('idx', 'lock/lib-2.0.tgz')).status).toBe(404);
    expect(upstream.count('/lock/lib-2.0.tgz')).toBe(0);
    expect((await proxy.get('idx', 'lock/bad-1.0.tgz')).aborted).toBeDefined();
    // Hints were found in the one index fetch: no re-fetch per artifact.
    expect(upstream.count('/lock/index.json')).toBe(1);
  });

  it('re-fetches a fresh index once to find a version newer than it, then throttles', async () => {
    upstream.set('/grow/index.json', JSON.stringify({ files: [] }));
    await proxy.get('idx', 'grow/index.json');
    upstream.set(
      '/grow/index.json',
      JSON.stringify({
        files: [{ name: 'new-3.0.tgz', sha256: sha('v3'), published: daysAgo(50).toISOString() }],
      }),
    );
    upstream.set('/grow/new-3.0.tgz', 'v3');
    expect((await proxy.get('idx', 'grow/new-3.0.tgz')).body.toString()).toBe('v3');
    expect(upstream.count('/grow/index.json')).toBe(2);
    // Within the throttle window, a missing version does not re-fetch the index again.
    for (let i = 0; i < 3; i++) expect((await proxy.get('idx', `grow/missing-9.${i}.tgz`)).status).toBe(404);
    expect(upstream.count('/grow/index.json')).toBe(2);
    clock.advance(3600_000);
    await proxy.get('idx', 'grow/missing-9.9.tgz');
    expect(upstream.count('/grow/index.json')).toBe(3);
  });
});
