import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { TestUpstream } from '../upstreams/server.ts';
import { type ApkPackage, apkFileName, buildApk, buildApkIndex } from './alpine-repo.ts';
import { OffsetClock, type Orchard, remote, startOrchard } from './orchard.ts';

// No apk binary can be had here: these requests are the ones apk-tools sends
// for `apk update` / `apk add` (GET of <repo>/<arch>/APKINDEX.tar.gz, with
// If-Modified-Since once it holds a copy, then GET of each .apk), against an
// `alpine` remote configured as the seed's example.

const repo = 'v3.20/main/x86_64';
const headers = { 'user-agent': 'apk-tools/2.14.4' };
const hello: ApkPackage = { name: 'orchard-hello', version: '1.0-r0' };
const tools: ApkPackage = { name: 'orchard-tools', version: '1.0-r0' };

describe('apk requests through an alpine remote', () => {
  let upstream: TestUpstream;
  let orchard: Orchard;
  let indexV1: Buffer;
  let indexV2: Buffer;
  const clock = new OffsetClock();
  const mutableTtl = 7200;
  const expire = () => clock.advance((mutableTtl + 1) * 1000);
  const apks = new Map<string, Buffer>();
  const get = (path: string, extra: Record<string, string> = {}) =>
    fetch(`${orchard.remoteUrl('alpine')}/${path}`, { headers: { ...headers, ...extra } });
  const body = async (res: Response) => Buffer.from(await res.arrayBuffer());

  beforeAll(async () => {
    const work = await tmpDir('apk-build-');
    const built = await Promise.all([hello, tools].map((p) => buildApk(work, p)));
    for (const [i, b] of built.entries()) apks.set(apkFileName([hello, tools][i]!), b.apk);
    indexV1 = await buildApkIndex(work, [built[0]!.stanza], 'v1');
    indexV2 = await buildApkIndex(work, [built[0]!.stanza, built[1]!.stanza], 'v2');
    upstream = await new TestUpstream().start();
    upstream.set(`/${repo}/APKINDEX.tar.gz`, { body: indexV1, lastModified: new Date(Date.now() - 60_000) });
    for (const [name, apk] of apks)
      upstream.set(`/${repo}/${name}`, { body: apk, lastModified: new Date(0) });
    orchard = await startOrchard(
      [
        remote('alpine', {
          type: 'remote',
          package: 'alpine',
          baseUrl: upstream.url,
          immutablePatterns: ['.*/x86_64/.*\\.apk$'],
          cache: { immutableTtl: 0, mutableTtl, negativeTtl: 60 },
          staleOnError: ['network'],
        }),
      ],
      { clock },
    );
  });

  afterAll(async () => {
    await orchard?.close();
    await upstream?.close();
  });

  it('caches APKINDEX.tar.gz as mutable and answers apk’s If-Modified-Since from the cache', async () => {
    const first = await get(`${repo}/APKINDEX.tar.gz`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-artifact-source')).toBe('remote');
    expect((await body(first)).equals(indexV1)).toBe(true);
    await orchard.engine.idle();
    const again = await get(`${repo}/APKINDEX.tar.gz`, {
      'if-modified-since': first.headers.get('last-modified')!,
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('x-artifact-source')).toBe('cache');
    expect(upstream.count(`/${repo}/APKINDEX.tar.gz`)).toBe(1);
    expect((await orchard.engine.index.get('alpine', `${repo}/APKINDEX.tar.gz`))?.mutable).toBe(true);
  });

  it('fetches the index again once mutableTtl (7200 s) has passed, and sees new packages', async () => {
    upstream.set(`/${repo}/APKINDEX.tar.gz`, { body: indexV2, lastModified: new Date() });
    expire();
    const res = await get(`${repo}/APKINDEX.tar.gz`);
    expect(res.status).toBe(200);
    expect((await body(res)).equals(indexV2)).toBe(true);
    expect(upstream.count(`/${repo}/APKINDEX.tar.gz`)).toBe(2);
  });

  it('caches each .apk once, immutably, whatever the upstream does later', async () => {
    for (const [name, apk] of apks) {
      const res = await get(`${repo}/${name}`);
      expect(res.status).toBe(200);
      expect((await body(res)).equals(apk)).toBe(true);
    }
    await orchard.engine.idle();
    // A re-published file under the same name is not picked up: package files never change.
    upstream.set(`/${repo}/${apkFileName(hello)}`, Buffer.from('changed'));
    expire();
    const res = await get(`${repo}/${apkFileName(hello)}`);
    expect(res.headers.get('x-artifact-source')).toBe('cache');
    expect((await body(res)).equals(apks.get(apkFileName(hello))!)).toBe(true);
    expect(upstream.count(`/${repo}/${apkFileName(hello)}`)).toBe(1);
    const entry = await orchard.engine.index.get('alpine', `${repo}/${apkFileName(hello)}`);
    expect(entry?.mutable).toBe(false);
  });

  it('keeps the immutablePatterns allowlist for packages but always serves indexes', async () => {
    expect((await get('v3.20/main/aarch64/orchard-hello-1.0-r0.apk')).status).toBe(403);
    // Not upstream: 404, but allowed (built-in mutable), and not a 403.
    expect((await get('v3.20/main/aarch64/APKINDEX.tar.gz')).status).toBe(404);
    expect((await get(`${repo}/missing-1.0-r0.apk`)).status).toBe(404);
  });

  it('serves the expired index and cached packages with the upstream stopped', async () => {
    await upstream.close();
    expire();
    const index = await get(`${repo}/APKINDEX.tar.gz`);
    expect(index.status).toBe(200);
    expect((await body(index)).equals(indexV2)).toBe(true);
    for (const [name, apk] of apks) expect((await body(await get(`${repo}/${name}`))).equals(apk)).toBe(true);
  });
});
