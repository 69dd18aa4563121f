import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { describeRun, pip, rawGet } from './clients.ts';
import { type Orchard, remote, startOrchard } from './orchard.ts';
import { PypiUpstream, type UpstreamFile } from './pypi-upstream.ts';
import { buildDistribution } from './python-packages.ts';

// pip and pip download through a pypi remote whose upstream is a local
// PEP 503/691 index; then the same with the upstream stopped, with quarantine,
// and with upstreams that misbehave.

const day = 86_400_000;
const upstream = new PypiUpstream();
let orchard: Orchard;
let demo1: UpstreamFile;
let demo2: UpstreamFile;
let dep: UpstreamFile;
let depSdist: UpstreamFile;
let bad: UpstreamFile;

const patterns = ['packages/.*\\.whl$', 'packages/.*\\.whl\\.metadata$', 'packages/.*\\.tar\\.gz$'];

beforeAll(async () => {
  const dir = await tmpDir('pypi-dists-');
  const old = new Date(Date.now() - 30 * day);
  const build = (kind: 'wheel' | 'sdist', name: string, version: string, requires: string[] = []) =>
    buildDistribution({ dir, kind, name, version, requires });
  demo1 = {
    project: 'orchard-demo',
    dist: build('wheel', 'orchard-demo', '1.0', ['orchard-dep>=1.0']),
    uploadedAt: old,
  };
  demo2 = {
    project: 'orchard-demo',
    dist: build('wheel', 'orchard-demo', '2.0', ['orchard-dep>=1.0']),
    uploadedAt: new Date(),
  };
  dep = { project: 'orchard-dep', dist: build('wheel', 'orchard-dep', '1.0'), uploadedAt: old };
  depSdist = { project: 'orchard-dep', dist: build('sdist', 'orchard-dep', '1.0'), uploadedAt: old };
  const badDist = build('wheel', 'orchard-bad', '1.0');
  bad = {
    project: 'orchard-bad',
    dist: badDist,
    uploadedAt: old,
    corruptWith: Buffer.from(badDist.bytes).fill(7, 100, 200),
  };
  for (const f of [demo1, demo2, dep, depSdist, bad]) upstream.add(f);
  upstream.rawPages.set('/simple/orchard-malformed/', {
    body: '{"files": [{"filename": 1',
    type: 'application/vnd.pypi.simple.v1+json',
  });
  upstream.rawPages.set('/simple/orchard-huge/', {
    body: `<html>${'x'.repeat(4096)}</html>`,
    type: 'text/html',
  });
  await upstream.start();
  const spec = (extra: Record<string, unknown> = {}) => ({
    type: 'remote',
    package: 'pypi',
    baseUrl: upstream.url,
    immutablePatterns: patterns,
    staleOnError: ['network'],
    cache: { immutableTtl: 0, mutableTtl: 600 },
    ...extra,
  });
  orchard = await startOrchard([
    remote('pypi', spec()),
    remote('pypi-q', spec({ quarantine: { days: 7 } })),
    remote('pypi-idx', spec({ options: { pypiIndexUrl: `${upstream.url}/simple/`, maxIndexBytes: 1024 } })),
  ]);
}, 120_000);

afterAll(async () => {
  await orchard?.close();
  await upstream.stop();
});

const index = (name: string) => `${orchard.remoteUrl(name)}/simple/`;

async function pipInstall(
  remoteName: string,
  pkgs: string[],
): Promise<{ dir: string; run: Awaited<ReturnType<typeof pip>> }> {
  const dir = await tmpDir('pip-target-');
  const run = await pip(['install', '--index-url', index(remoteName), '--target', dir, ...pkgs]);
  return { dir, run };
}

async function installedVersion(dir: string, module: string): Promise<string> {
  return (await readFile(join(dir, module, '__init__.py'), 'utf8')).trim();
}

describe('pip through a pypi remote', () => {
  it('pip install resolves the newest version and its dependency', async () => {
    const { dir, run } = await pipInstall('pypi', ['orchard-demo']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(await installedVersion(dir, 'orchard_demo')).toBe("VERSION = '2.0'");
    expect(await installedVersion(dir, 'orchard_dep')).toBe("VERSION = '1.0'");
    expect(upstream.count('/simple/orchard-demo/')).toBeGreaterThan(0);
    expect(upstream.count(upstream.filePath(demo2))).toBe(1);
  });

  it('pip download fetches wheels and an sdist byte for byte', async () => {
    const dir = await tmpDir('pip-download-');
    const run = await pip(['download', '--index-url', index('pypi'), '--dest', dir, 'orchard-demo==1.0']);
    expect(run.code, describeRun(run)).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([demo1.dist.filename, dep.dist.filename].sort());
    expect(await readFile(join(dir, demo1.dist.filename))).toEqual(demo1.dist.bytes);
    const src = await tmpDir('pip-sdist-');
    const sdist = await pip([
      'download',
      '--index-url',
      index('pypi'),
      '--dest',
      src,
      '--no-binary',
      ':all:',
      '--no-deps',
      '--no-build-isolation',
      'orchard-dep==1.0',
    ]);
    expect(sdist.code, describeRun(sdist)).toBe(0);
    expect(await readFile(join(src, depSdist.dist.filename))).toEqual(depSdist.dist.bytes);
  });

  it('serves PEP 658 metadata files verified against the page', async () => {
    const res = await fetch(`${orchard.remoteUrl('pypi')}${upstream.filePath(demo2)}.metadata`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(demo2.dist.metadata);
  });

  it('fetches pages from options.pypiIndexUrl', async () => {
    const before = upstream.count('/simple/orchard-dep/');
    const res = await fetch(`${index('pypi-idx')}orchard-dep/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(dep.dist.filename);
    expect(upstream.count('/simple/orchard-dep/')).toBe(before + 1);
  });
});

describe('PEP 691 negotiation', () => {
  it('answers JSON and HTML by Accept and caches them separately', async () => {
    const url = `${index('pypi')}orchard-dep/`;
    const json = await fetch(url, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } });
    expect(json.headers.get('content-type')).toBe('application/vnd.pypi.simple.v1+json');
    const doc = (await json.json()) as { files: { filename: string; url: string; 'upload-time'?: string }[] };
    expect(doc.files.map((f) => f.filename).sort()).toEqual(
      [dep.dist.filename, depSdist.dist.filename].sort(),
    );
    expect(doc.files[0]!.url).toMatch(/^\.\.\/\.\.\/packages\//);
    expect(doc.files[0]!['upload-time']).toBeDefined();
    const html = await fetch(url, { headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toContain(`#sha256=${dep.dist.sha256}`);
    expect((await fetch(url, { headers: { accept: 'text/html' } })).headers.get('x-artifact-source')).toBe(
      'cache',
    );
    expect(
      (await fetch(url, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).headers.get(
        'x-artifact-source',
      ),
    ).toBe('cache');
  });

  it('normalizes project names (PEP 503) to one cache entry', async () => {
    await fetch(`${index('pypi')}orchard-demo/`);
    const res = await fetch(`${index('pypi')}Orchard_Demo/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-artifact-source')).toBe('cache');
    expect(await res.text()).toContain(demo1.dist.filename);
  });
});

describe('quarantine on a pypi remote', () => {
  it('hides files uploaded too recently so pip resolves the older version', async () => {
    const { dir, run } = await pipInstall('pypi-q', ['orchard-demo']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(await installedVersion(dir, 'orchard_demo')).toBe("VERSION = '1.0'");
    const page = await (await fetch(`${index('pypi-q')}orchard-demo/`)).text();
    expect(page).toContain(demo1.dist.filename);
    expect(page).not.toContain(demo2.dist.filename);
  });

  it('refuses a direct download of a quarantined file with 404', async () => {
    const res = await fetch(`${orchard.remoteUrl('pypi-q')}${upstream.filePath(demo2)}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('QUARANTINED');
  });
});

describe('pypi bad input', () => {
  it('fails a download whose bytes do not match the sha256 the page published, caching nothing', async () => {
    const { run } = await pipInstall('pypi', ['orchard-bad']);
    expect(run.code, describeRun(run)).not.toBe(0);
    const path = upstream.filePath(bad).slice(1);
    expect(await orchard.engine.index.get('pypi', path)).toBeUndefined();
    const again = await fetch(`${orchard.remoteUrl('pypi')}/${path}`).then(
      async (r) => ({
        status: r.status,
        body: await r.arrayBuffer().then(
          () => 'complete',
          () => 'aborted',
        ),
      }),
      () => ({ status: 0, body: 'aborted' }),
    );
    expect(again.status === 502 || again.body === 'aborted').toBe(true);
    expect(await orchard.engine.index.get('pypi', path)).toBeUndefined();
  });

  it('answers 502 for a malformed page and caches nothing', async () => {
    const res = await fetch(`${index('pypi')}orchard-malformed/`, {
      headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(/malformed/);
    expect(await orchard.engine.index.get('pypi', 'simple/orchard-malformed/#json')).toBeUndefined();
  });

  it('answers 502 for a page larger than maxIndexBytes and caches nothing', async () => {
    const res = await fetch(`${index('pypi-idx')}orchard-huge/`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than 1024 bytes/);
    expect(await orchard.engine.index.get('pypi-idx', 'simple/orchard-huge/')).toBeUndefined();
  });

  it.each([['simple/..%2f..%2fetc/'], ['simple/%2e%2e/'], ['simple/bad%23name/'], ['simple/-x-/']])(
    'refuses the project path %s with 400',
    async (path) => {
      const res = await rawGet(`${orchard.remoteUrl('pypi')}/${path}`);
      expect(res.status).toBe(400);
    },
  );
});

describe('pypi with the upstream stopped', () => {
  it('installs everything from the cache, pages served stale after their TTL', async () => {
    const flush = await fetch(`${orchard.url}/cache/flush?remote=pypi&mutable_only=true`, { method: 'PUT' });
    expect(flush.status).toBe(200);
    await upstream.stop();
    const { dir, run } = await pipInstall('pypi', ['orchard-demo']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(await installedVersion(dir, 'orchard_demo')).toBe("VERSION = '2.0'");
    expect(await installedVersion(dir, 'orchard_dep')).toBe("VERSION = '1.0'");
  });
});
