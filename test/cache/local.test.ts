import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobKey } from '../../proxy/src/storage/blob-store.ts';
import { type CacheProxy, http, json, remoteDoc, startCacheProxy } from './harness.ts';

// `type: local` remotes: streaming PUT with sha256, GET/HEAD/DELETE, stored
// content-addressed in the same store as cached files.

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
let proxy: CacheProxy;

beforeAll(async () => {
  proxy = await startCacheProxy({
    blobs: 'fs',
    env: { ORCHARD_MAX_UPLOAD_BYTES: String(8 * 1024 * 1024) },
    config: [
      // The seed's local example, as written.
      remoteDoc('local-generic', {
        type: 'local',
        package: 'generic',
        description: 'Local file repository',
        cache: { immutableTtl: 0, mutableTtl: 0 },
      }),
      remoteDoc('local-tarballs', { type: 'local', package: 'generic', immutablePatterns: ['\\.tar\\.gz$'] }),
      remoteDoc('cache', { type: 'remote', package: 'generic', baseUrl: 'http://127.0.0.1:9' }),
    ],
  });
});
afterAll(async () => {
  await proxy.close();
});

const url = (remote: string, path: string) => `${proxy.url}/api/v1/remote/${remote}/${path}`;

describe('local remotes', () => {
  it('stores a PUT and serves it with GET and HEAD', async () => {
    const body = Buffer.from('tool v1\n'.repeat(10_000));
    const put = await http(url('local-generic', 'tools/v1/tool.bin'), {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/x-tool' },
    });
    expect(put.status).toBe(201);
    expect(json(put)).toMatchObject({ path: 'tools/v1/tool.bin', sha256: sha(body), size: body.length });

    const got = await http(url('local-generic', 'tools/v1/tool.bin'));
    expect(got.status).toBe(200);
    expect(got.body.equals(body)).toBe(true);
    expect(got.headers['content-type']).toBe('application/x-tool');
    expect(got.headers.etag).toBe(`"${sha(body)}"`);
    expect(got.headers['x-artifact-source']).toBe('cache');

    const head = await http(url('local-generic', 'tools/v1/tool.bin'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(body.length));

    const part = await http(url('local-generic', 'tools/v1/tool.bin'), { headers: { range: 'bytes=0-6' } });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe('tool v1');
  });

  it('replaces a file on a second PUT (200) and deletes it (204, then 404)', async () => {
    await http(url('local-generic', 'notes.txt'), { method: 'PUT', body: 'first' });
    const again = await http(url('local-generic', 'notes.txt'), { method: 'PUT', body: 'second' });
    expect(again.status).toBe(200);
    expect((await http(url('local-generic', 'notes.txt'))).body.toString()).toBe('second');
    expect((await http(url('local-generic', 'notes.txt'), { method: 'DELETE' })).status).toBe(204);
    expect((await http(url('local-generic', 'notes.txt'))).status).toBe(404);
    expect((await http(url('local-generic', 'notes.txt'), { method: 'HEAD' })).status).toBe(404);
    expect((await http(url('local-generic', 'notes.txt'), { method: 'DELETE' })).status).toBe(404);
  });

  it('verifies X-Checksum-Sha256 and stores nothing on a mismatch', async () => {
    const body = Buffer.from('checked content');
    const ok = await http(url('local-generic', 'checked.bin'), {
      method: 'PUT',
      body,
      headers: { 'x-checksum-sha256': sha(body) },
    });
    expect(ok.status).toBe(201);
    const wrong = Buffer.from('tampered content');
    const bad = await http(url('local-generic', 'tampered.bin'), {
      method: 'PUT',
      body: wrong,
      headers: { 'x-checksum-sha256': sha('something else') },
    });
    expect(bad.status).toBe(422);
    expect(json(bad).code).toBe('DIGEST_MISMATCH');
    expect((await http(url('local-generic', 'tampered.bin'))).status).toBe(404);
    expect(await proxy.blobs.stat(blobKey(sha(wrong)))).toBeUndefined();
    expect(await proxy.blobs.stat(blobKey(sha('something else')))).toBeUndefined();
    const malformed = await http(url('local-generic', 'x.bin'), {
      method: 'PUT',
      body: 'x',
      headers: { 'x-checksum-sha256': 'not-hex' },
    });
    expect(malformed.status).toBe(400);
  });

  it('stores identical bytes once, whatever the path', async () => {
    const body = Buffer.from('shared bytes');
    const before = proxy.blobs.puts.length;
    await http(url('local-generic', 'a/one.bin'), {
      method: 'PUT',
      body,
      headers: { 'x-checksum-sha256': sha(body) },
    });
    await http(url('local-generic', 'b/two.bin'), {
      method: 'PUT',
      body,
      headers: { 'x-checksum-sha256': sha(body) },
    });
    expect(proxy.blobs.puts.length - before).toBe(1);
    expect((await http(url('local-generic', 'b/two.bin'))).body.toString()).toBe('shared bytes');
  });

  it('refuses uploads over the size limit with 413 and keeps nothing', async () => {
    const body = Buffer.alloc(9 * 1024 * 1024, 1);
    const r = await http(url('local-generic', 'big.bin'), { method: 'PUT', body });
    expect(r.status).toBe(413);
    expect((await http(url('local-generic', 'big.bin'))).status).toBe(404);
    expect(await proxy.blobs.keys('tmp/')).toEqual([]);
  });

  it("applies the path guard and the remote's patterns", async () => {
    expect((await http(url('local-generic', 'a/%2e%2e/b'), { method: 'PUT', body: 'x' })).status).toBe(400);
    expect((await http(url('local-tarballs', 'readme.md'), { method: 'PUT', body: 'x' })).status).toBe(403);
    expect((await http(url('local-tarballs', 'rel-1.0.tar.gz'), { method: 'PUT', body: 'x' })).status).toBe(
      201,
    );
  });

  it('refuses PUT and DELETE on a caching remote with 405', async () => {
    expect((await http(url('cache', 'x.bin'), { method: 'PUT', body: 'x' })).status).toBe(405);
    expect((await http(url('cache', 'x.bin'), { method: 'DELETE' })).status).toBe(405);
  });

  it('reports its files in the stats endpoint', async () => {
    const stats = json(await http(`${proxy.url}/api/v1/remotes/local-tarballs/stats`));
    expect(stats).toMatchObject({
      remote: 'local-tarballs',
      cached_objects: 1,
      cached_bytes: 1,
      upstream_healthy: true,
    });
  });
});
