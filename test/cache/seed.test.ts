import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../proxy/src/clock.ts';
import { loadConfig } from '../../proxy/src/config/index.ts';
import { MemoryCoordinator } from '../../proxy/src/coord/memory.ts';
import { TestUpstream } from '../upstreams/server.ts';
import { type CacheProxy, http, startCacheProxy } from './harness.ts';

// The artifactapi seed's generic and local examples, loaded from the seed's own
// YAML (proxy/src/config/testdata/seed/) with only base_url pointed at a local
// upstream, and driven with the requests the seed documents.

const seedDir = new URL('../../proxy/src/config/testdata/seed/', import.meta.url);
const upstream = new TestUpstream();
const clock = new ManualClock(Date.UTC(2026, 3, 1));
let proxy: CacheProxy;
let dir: string;

beforeAll(async () => {
  await upstream.start();
  dir = await mkdtemp(join(tmpdir(), 'orchard-seed-'));
  const generic = (await readFile(new URL('02-generic.yaml', seedDir), 'utf8')).replaceAll(
    'https://github.com',
    upstream.url,
  );
  await writeFile(join(dir, '02-generic.yaml'), generic);
  await writeFile(join(dir, '10-local.yaml'), await readFile(new URL('10-local.yaml', seedDir), 'utf8'));
  proxy = await startCacheProxy({
    clock,
    coord: new MemoryCoordinator({ clock }),
    config: await loadConfig(dir),
  });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('seed: generic remotes', () => {
  it('github: caches a terragrunt release forever', async () => {
    const path = 'gruntwork-io/terragrunt/releases/download/v0.55.0/terragrunt_linux_amd64';
    upstream.set(`/${path}`, 'terragrunt binary');
    expect((await proxy.get('github', path)).headers['x-artifact-source']).toBe('remote');
    clock.advance(365 * 24 * 3600 * 1000);
    const again = await proxy.get('github', path);
    expect(again.headers['x-artifact-source']).toBe('cache');
    expect(again.body.toString()).toBe('terragrunt binary');
  });

  it("github: the README's access example matches none of the remote's patterns, so it is 403", async () => {
    const r = await proxy.get('github', 'owner/repo/releases/download/v1.0/binary.tar.gz');
    expect(r.status).toBe(403);
  });

  it('github-archive: tag archives are immutable, branch archives revalidate after mutable_ttl', async () => {
    upstream.set('/o/r/archive/refs/tags/v1.0.tar.gz', 'tag archive');
    upstream.set('/o/r/archive/refs/heads/main.tar.gz', { body: Buffer.from('main@1'), etag: '"m1"' });
    await proxy.get('github-archive', 'o/r/archive/refs/tags/v1.0.tar.gz');
    await proxy.get('github-archive', 'o/r/archive/refs/heads/main.tar.gz');
    clock.advance(86_401_000);
    upstream.set('/o/r/archive/refs/heads/main.tar.gz', { body: Buffer.from('main@2'), etag: '"m2"' });
    expect(
      (await proxy.get('github-archive', 'o/r/archive/refs/tags/v1.0.tar.gz')).headers['x-artifact-source'],
    ).toBe('cache');
    expect((await proxy.get('github-archive', 'o/r/archive/refs/heads/main.tar.gz')).body.toString()).toBe(
      'main@2',
    );
    const revalidation = upstream.requests
      .filter((q) => q.path === '/o/r/archive/refs/heads/main.tar.gz')
      .at(-1)!;
    expect(revalidation.headers['if-none-match']).toBe('"m1"');
    expect(upstream.count('/o/r/archive/refs/tags/v1.0.tar.gz')).toBe(1);
    expect((await proxy.get('github-archive', 'o/r/README.md')).status).toBe(403);
  });
});

describe('seed: local remote', () => {
  it('local-generic: files are uploaded via PUT and served via GET', async () => {
    const url = `${proxy.url}/api/v1/remote/local-generic/builds/app-1.2.3.tar.gz`;
    expect((await http(url, { method: 'PUT', body: 'build output' })).status).toBe(201);
    expect((await http(url, { method: 'HEAD' })).status).toBe(200);
    expect((await http(url)).body.toString()).toBe('build output');
    expect((await http(url, { method: 'DELETE' })).status).toBe(204);
  });
});
