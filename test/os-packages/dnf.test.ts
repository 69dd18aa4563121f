import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { TestUpstream } from '../upstreams/server.ts';
import { type Dnf, makeDnf } from './dnf.ts';
import { type Orchard, remote, serveTree, startOrchard } from './orchard.ts';
import { buildRpm, type RpmPackage, repodataFiles, rpmFileName, writeRepo } from './rpm-repo.ts';
import { describeRun, type RunResult } from './run.ts';

// Real dnf against real rpm-md repositories (rpmbuild, createrepo_c) served
// over loopback, through an `rpm` remote. Repository `os` has content-named
// metadata (createrepo_c's default, as Fedora and EL mirrors), `extras`
// xz-compressed metadata with simple names (`repodata/primary.xml.xz`), which
// can change in place.

const hello10: RpmPackage = { name: 'orchard-hello', version: '1.0' };
const hello11: RpmPackage = { name: 'orchard-hello', version: '1.1' };
const tools: RpmPackage = { name: 'orchard-tools', version: '1.0' };
const broken: RpmPackage = { name: 'orchard-broken', version: '1.0' };
const extra10: RpmPackage = { name: 'orchard-extra', version: '1.0' };
const extra11: RpmPackage = { name: 'orchard-extra', version: '1.1' };

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const durations: Record<string, number> = {};

describe('dnf through an rpm remote', () => {
  let top: string;
  let upstream: TestUpstream;
  let orchard: Orchard;
  let served: Set<string>;
  const rpms = new Map<string, string>();
  const rpmOf = (p: RpmPackage) => rpms.get(rpmFileName(p))!;
  const bytes = async (p: RpmPackage) => sha256(await readFile(rpmOf(p)));

  const why = (r: RunResult) => `${describeRun(r)}\n--- orchard\n${orchard.logs()}`;
  const newDnf = () =>
    makeDnf(['os', 'extras'].map((id) => ({ id, baseurl: `${orchard.remoteUrl('rpm')}/el/9/${id}/` })));
  const publish = async () => {
    served = await serveTree(upstream, top, served);
  };
  const flush = async (query: string) => {
    const res = await fetch(`${orchard.url}/cache/flush?remote=rpm&mutable_only=true&${query}`, {
      method: 'PUT',
    });
    expect(res.status).toBe(200);
  };
  const download = async (dnf: Dnf, pkgs: RpmPackage[]) => {
    const r = await dnf.download(pkgs.map((p) => p.name));
    expect(r.code, why(r)).toBe(0);
    for (const p of pkgs)
      expect(sha256(await readFile(join(dnf.downloads, rpmFileName(p))))).toBe(await bytes(p));
    return r.ms;
  };

  beforeAll(async () => {
    top = await tmpDir('rpm-upstream-');
    const work = await tmpDir('rpm-build-');
    for (const p of [hello10, hello11, tools, broken, extra10, extra11]) {
      const file = await buildRpm(work, p);
      rpms.set(rpmFileName(p), file);
    }
    await writeRepo(join(top, 'el/9/os'), [rpmOf(hello10), rpmOf(tools)]);
    await writeRepo(join(top, 'el/9/extras'), [rpmOf(extra10)], { simpleNames: true, compression: 'xz' });
    upstream = await new TestUpstream().start();
    await publish();
    orchard = await startOrchard([
      remote('rpm', {
        type: 'remote',
        package: 'rpm',
        baseUrl: upstream.url,
        immutablePatterns: ['.*/noarch/.*\\.rpm$', '.*/Packages/.*\\.rpm$'],
        cache: { immutableTtl: 0, mutableTtl: 3600, negativeTtl: 60 },
        staleOnError: ['network'],
      }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await orchard?.close();
    await upstream?.close();
    if (Object.keys(durations).length) console.info('dnf e2e durations (ms):', JSON.stringify(durations));
  });

  it('downloads on a cold cache, verifying each .rpm against primary.xml', async () => {
    durations.cold = await download(await newDnf(), [hello10, tools, extra10]);
    await orchard.engine.idle();
    const primary = (await repodataFiles(join(top, 'el/9/os'))).find((f) => f.endsWith('-primary.xml.gz'))!;
    expect(upstream.count(`/el/9/os/repodata/${primary}`)).toBe(1);
    expect((await orchard.engine.index.get('rpm', `el/9/os/repodata/${primary}`))?.mutable).toBe(false);
    expect((await orchard.engine.index.get('rpm', 'el/9/extras/repodata/primary.xml.xz'))?.mutable).toBe(
      true,
    );
    for (const [repo, p] of [
      ['os', hello10],
      ['os', tools],
      ['extras', extra10],
    ] as const) {
      const path = `el/9/${repo}/Packages/${rpmFileName(p)}`;
      expect((await orchard.engine.hints.get('rpm', path))?.digest).toEqual({
        algorithm: 'sha256',
        hex: await bytes(p),
      });
      expect((await orchard.engine.index.get('rpm', path))?.mutable).toBe(false);
    }
  });

  it('serves a second client entirely from the cache', async () => {
    const before = upstream.requests.length;
    durations.warm = await download(await newDnf(), [hello10, tools, extra10]);
    expect(upstream.requests.slice(before).map((r) => r.path)).toEqual([]);
  });

  it('refuses an .rpm whose bytes differ from its primary.xml checksum, and caches nothing', async () => {
    await writeRepo(join(top, 'el/9/os'), [rpmOf(hello10), rpmOf(tools), rpmOf(broken)]);
    await publish();
    await flush('pattern=repomd');
    const path = `el/9/os/Packages/${rpmFileName(broken)}`;
    upstream.behave(`/${path}`, { kind: 'corrupt' });
    const failuresBefore = await orchard.metric('orchard_integrity_failures_total', { remote: 'rpm' });
    const dnf = await newDnf();
    const bad = await dnf.download([broken.name]);
    expect(bad.code, why(bad)).not.toBe(0);
    await orchard.engine.idle();
    expect(await orchard.engine.index.get('rpm', path)).toBeUndefined();
    expect(await orchard.metric('orchard_integrity_failures_total', { remote: 'rpm' })).toBeGreaterThan(
      failuresBefore,
    );
    upstream.behave(`/${path}`);
    await download(dnf, [broken]);
  });

  it('serves the primary.xml a refreshed repomd.xml lists, however fresh the cached one', async () => {
    await writeRepo(join(top, 'el/9/extras'), [rpmOf(extra11)], { simpleNames: true, compression: 'xz' });
    await publish();
    // Only repomd.xml expires: repodata/primary.xml.xz is within its TTL, but no longer the one listed.
    await flush('pattern=repomd');
    await download(await newDnf(), [extra11]);

    // An unchanged repomd.xml keeps the cached primary.xml.xz: no upstream fetch for it.
    const fetched = upstream.count('/el/9/extras/repodata/primary.xml.xz');
    const repomds = upstream.count('/el/9/extras/repodata/repomd.xml');
    await flush('pattern=repomd');
    await download(await newDnf(), [extra11]);
    expect(upstream.count('/el/9/extras/repodata/repomd.xml')).toBe(repomds + 1);
    expect(upstream.count('/el/9/extras/repodata/primary.xml.xz')).toBe(fetched);
  });

  it('keeps dnf working from the cache with the upstream stopped and repomd.xml expired', async () => {
    await upstream.close();
    await flush('');
    durations.upstreamDown = await download(await newDnf(), [hello10, tools, extra11]);
  });
});
