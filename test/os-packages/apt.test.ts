import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { TestUpstream } from '../upstreams/server.ts';
import { type Apt, makeApt } from './apt.ts';
import {
  buildDeb,
  type DebPackage,
  makeSigningKey,
  poolPath,
  type SigningKey,
  writeSuite,
} from './debian-repo.ts';
import { type Orchard, remote, serveTree, startOrchard } from './orchard.ts';
import { describeRun, type RunResult } from './run.ts';

// Real apt-get against a real Debian archive (dpkg-deb, dpkg-scanpackages,
// apt-ftparchive, signed with gpg) served over loopback, through a `deb`
// remote; apt checks the signatures itself (signed-by), so the InRelease files
// must pass through untouched. Suite `stable` is published with by-hash
// indexes (as Debian and Ubuntu do), `updates` without (apt fetches
// dists/updates/…/Packages.xz by name).

const hello11: DebPackage = { name: 'orchard-hello', version: '1.1' };
const hello12: DebPackage = { name: 'orchard-hello', version: '1.2' };
const tools: DebPackage = { name: 'orchard-tools', version: '1.0' };
const broken: DebPackage = { name: 'orchard-broken', version: '1.0' };
const hello10: DebPackage = { name: 'orchard-hello', version: '1.0' };

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const durations: Record<string, number> = {};

describe('apt-get through a deb remote', () => {
  let top: string;
  let archive: string;
  let upstream: TestUpstream;
  let orchard: Orchard;
  let served: Set<string>;
  let key: SigningKey;
  const debs = new Map<string, Buffer>();

  const sources = () => {
    const base = `${orchard.remoteUrl('deb')}/debian`;
    return ['stable', 'updates'].map((suite) => `deb [signed-by=${key.keyring}] ${base} ${suite} main`);
  };
  const why = (r: RunResult) => `${describeRun(r)}\n--- orchard\n${orchard.logs()}`;
  const publish = async () => {
    served = await serveTree(upstream, top, served);
  };
  const flush = async (query: string) => {
    const res = await fetch(`${orchard.url}/cache/flush?remote=deb&mutable_only=true&${query}`, {
      method: 'PUT',
    });
    expect(res.status).toBe(200);
  };
  const updateAndDownload = async (apt: Apt, pkgs: string[]) => {
    const update = await apt.get(['update']);
    expect(update.code, why(update)).toBe(0);
    expect(update.stderr, why(update)).not.toMatch(/^(E|W):/m);
    const download = await apt.get(['download', ...pkgs]);
    expect(download.code, why(download)).toBe(0);
    return update.ms + download.ms;
  };
  const downloaded = (apt: Apt, p: DebPackage) =>
    readFile(join(apt.downloads, `${p.name}_${p.version}_all.deb`));

  beforeAll(async () => {
    top = await tmpDir('deb-upstream-');
    archive = join(top, 'debian');
    const work = await tmpDir('deb-build-');
    key = await makeSigningKey(work);
    for (const p of [hello10, hello11, hello12, tools, broken])
      debs.set(poolPath(p), await buildDeb(archive, work, p));
    await writeSuite(archive, { suite: 'stable', packages: [hello10, tools], byHash: true, key });
    await writeSuite(archive, { suite: 'updates', packages: [hello11], key });
    upstream = await new TestUpstream().start();
    await publish();
    orchard = await startOrchard([
      remote('deb', {
        type: 'remote',
        package: 'deb',
        baseUrl: upstream.url,
        immutablePatterns: ['/pool/.*\\.deb$'],
        cache: { immutableTtl: 0, mutableTtl: 3600, negativeTtl: 60 },
        staleOnError: ['network'],
      }),
    ]);
  });

  afterAll(async () => {
    await orchard?.close();
    await upstream?.close();
    if (Object.keys(durations).length) console.info('apt e2e durations (ms):', JSON.stringify(durations));
  });

  it('updates and downloads on a cold cache, verifying each .deb against its Packages index', async () => {
    const apt = await makeApt(sources());
    durations.cold = await updateAndDownload(apt, ['orchard-hello', 'orchard-tools']);
    expect(sha256(await downloaded(apt, hello11))).toBe(sha256(debs.get(poolPath(hello11))!));
    expect(sha256(await downloaded(apt, tools))).toBe(sha256(debs.get(poolPath(tools))!));
    // stable's Packages came by hash, updates' by name; both yielded the package digests.
    expect(
      upstream.requests.some((r) => /dists\/stable\/main\/binary-amd64\/by-hash\/SHA256\//.test(r.path)),
    ).toBe(true);
    expect(upstream.count('/debian/dists/updates/main/binary-amd64/Packages.xz')).toBe(1);
    expect(upstream.count('/debian/dists/updates/Release')).toBe(0);
    await orchard.engine.idle();
    for (const p of [hello11, tools]) {
      const hint = await orchard.engine.hints.get('deb', `debian/${poolPath(p)}`);
      expect(hint?.digest).toEqual({ algorithm: 'sha256', hex: sha256(debs.get(poolPath(p))!) });
      const entry = await orchard.engine.index.get('deb', `debian/${poolPath(p)}`);
      expect(entry?.mutable).toBe(false);
    }
  });

  it('serves a second client entirely from the cache', async () => {
    const before = upstream.requests.length;
    const apt = await makeApt(sources());
    durations.warm = await updateAndDownload(apt, ['orchard-hello', 'orchard-tools']);
    expect(sha256(await downloaded(apt, hello11))).toBe(sha256(debs.get(poolPath(hello11))!));
    expect(upstream.requests.slice(before).map((r) => r.path)).toEqual([]);
  });

  it('refuses a .deb whose bytes differ from the SHA256 in Packages, and caches nothing', async () => {
    await writeSuite(archive, { suite: 'updates', packages: [hello11, broken], key });
    await publish();
    await flush('pattern=Release$');
    const path = `debian/${poolPath(broken)}`;
    upstream.behave(`/${path}`, { kind: 'corrupt' });
    const failuresBefore = await orchard.metric('orchard_integrity_failures_total', { remote: 'deb' });
    const apt = await makeApt(sources());
    const update = await apt.get(['update']);
    expect(update.code, why(update)).toBe(0);
    const bad = await apt.get(['download', 'orchard-broken']);
    expect(bad.code, why(bad)).not.toBe(0);
    await orchard.engine.idle();
    expect(await orchard.engine.index.get('deb', path)).toBeUndefined();
    expect(await orchard.metric('orchard_integrity_failures_total', { remote: 'deb' })).toBe(
      failuresBefore + 1,
    );
    // Once the upstream serves the right bytes, the same request succeeds: nothing bad was kept.
    upstream.behave(`/${path}`);
    const good = await apt.get(['download', 'orchard-broken']);
    expect(good.code, why(good)).toBe(0);
    expect(sha256(await downloaded(apt, broken))).toBe(sha256(debs.get(poolPath(broken))!));
  });

  it('serves the Packages file a refreshed Release lists, however fresh the cached one', async () => {
    await writeSuite(archive, { suite: 'updates', packages: [hello12, broken], key });
    await publish();
    // Only the Release expires: Packages.xz is still within its TTL, but no longer the one listed.
    await flush('pattern=Release$');
    const apt = await makeApt(sources());
    await updateAndDownload(apt, ['orchard-hello']);
    expect(sha256(await downloaded(apt, hello12))).toBe(sha256(debs.get(poolPath(hello12))!));

    // An unchanged Release keeps the cached Packages.xz: no upstream fetch for it.
    const packagesPath = '/debian/dists/updates/main/binary-amd64/Packages.xz';
    const fetched = upstream.count(packagesPath);
    const releases = upstream.count('/debian/dists/updates/InRelease');
    await flush('pattern=Release$');
    await updateAndDownload(await makeApt(sources()), ['orchard-hello']);
    expect(upstream.count('/debian/dists/updates/InRelease')).toBe(releases + 1);
    expect(upstream.count(packagesPath)).toBe(fetched);
  });

  it('keeps apt working from the cache with the upstream stopped and the indexes expired', async () => {
    await upstream.close();
    await flush('');
    const apt = await makeApt(sources());
    durations.upstreamDown = await updateAndDownload(apt, ['orchard-hello', 'orchard-tools']);
    expect(sha256(await downloaded(apt, hello12))).toBe(sha256(debs.get(poolPath(hello12))!));
    expect(sha256(await downloaded(apt, tools))).toBe(sha256(debs.get(poolPath(tools))!));
  });
});
