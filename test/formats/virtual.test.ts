import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { helmChart, npmTarball } from './archives.ts';
import { describeRun, npmEnv, pip, runClient } from './clients.ts';
import { helmPull, helmRepoIndex } from './helm-client.ts';
import { type Orchard, remote, startOrchard, virtualRepo } from './orchard.ts';
import { PypiUpstream } from './pypi-upstream.ts';
import { buildDistribution } from './python-packages.ts';
import { StaticUpstream } from './static-upstream.ts';

// Virtual repositories merge their members' indexes, first member winning,
// and real clients (pip, npm, helm's requests) use them as one repository.

const old = new Date(Date.now() - 30 * 86_400_000);
const helmA = new StaticUpstream();
const helmB = new StaticUpstream();
const npmA = new StaticUpstream();
const npmB = new StaticUpstream();
const pypiA = new PypiUpstream();
const pypiB = new PypiUpstream();
let orchard: Orchard;
const closedPort = 'http://127.0.0.1:9';

async function helmRepo(up: StaticUpstream, charts: [string, string][]): Promise<Record<string, Buffer>> {
  const bytes: Record<string, Buffer> = {};
  const entries: Record<string, unknown[]> = {};
  for (const [name, version] of charts) {
    const c = await helmChart(name, version);
    bytes[`${name}-${version}`] = c.bytes;
    up.files.set(`/${name}-${version}.tgz`, { body: c.bytes });
    entries[name] = entries[name] ?? [];
    entries[name].push({
      name,
      version,
      digest: c.sha256,
      created: old.toISOString(),
      urls: [`${name}-${version}.tgz`],
    });
  }
  up.files.set('/index.yaml', {
    body: JSON.stringify({ apiVersion: 'v1', entries }),
    type: 'application/x-yaml',
  });
  return bytes;
}

async function npmRegistry(
  up: StaticUpstream,
  pkgs: { name: string; version: string; dependencies?: Record<string, string> }[],
): Promise<void> {
  const docs = new Map<
    string,
    {
      name: string;
      'dist-tags': Record<string, string>;
      versions: Record<string, unknown>;
      time: Record<string, string>;
    }
  >();
  for (const m of pkgs) {
    const t = await npmTarball(m);
    const file = `${m.name.split('/').pop()}-${m.version}.tgz`;
    up.files.set(`/${m.name}/-/${file}`, { body: t.bytes });
    const doc = docs.get(m.name) ?? { name: m.name, 'dist-tags': {}, versions: {}, time: {} };
    doc.versions[m.version] = {
      ...m,
      dist: { tarball: `${up.url}/${m.name}/-/${file}`, integrity: `sha512-${t.sha512}`, shasum: t.sha1 },
    };
    doc['dist-tags'].latest = m.version;
    doc.time[m.version] = old.toISOString();
    docs.set(m.name, doc);
  }
  for (const [name, doc] of docs)
    up.files.set(`/${name}`, { body: JSON.stringify(doc), type: 'application/json' });
}

let helmBytes: Record<string, Buffer> = {};

beforeAll(async () => {
  for (const up of [helmA, helmB, npmA, npmB]) await up.start();
  await pypiA.start();
  await pypiB.start();
  helmBytes = {
    ...(await helmRepo(helmB, [
      ['vault', '0.27.0'],
      ['consul', '1.0.0'],
    ])),
    ...(await helmRepo(helmA, [['vault', '0.27.0']])),
  };
  await npmRegistry(npmA, [{ name: 'virt-app', version: '1.0.0', dependencies: { '@virt/dep': '^1.0.0' } }]);
  await npmRegistry(npmB, [
    { name: 'virt-app', version: '1.0.0', dependencies: { 'never-installed': '1.0.0' } },
    { name: 'virt-app', version: '0.9.0' },
    { name: '@virt/dep', version: '1.0.0' },
  ]);
  const dir = await tmpDir('virtual-dists-');
  pypiA.add({
    project: 'virt-app',
    dist: buildDistribution({ dir, kind: 'wheel', name: 'virt-app', version: '1.0', requires: ['virt-dep'] }),
    uploadedAt: old,
  });
  pypiB.add({
    project: 'virt-dep',
    dist: buildDistribution({ dir, kind: 'wheel', name: 'virt-dep', version: '1.0' }),
    uploadedAt: old,
  });
  const r = (name: string, pkg: string, baseUrl: string) =>
    remote(name, {
      type: 'remote',
      package: pkg,
      baseUrl,
      staleOnError: [],
      cache: { immutableTtl: 0, mutableTtl: 300 },
    });
  orchard = await startOrchard([
    r('helm-a', 'helm', helmA.url),
    r('helm-b', 'helm', helmB.url),
    r('helm-down', 'helm', closedPort),
    r('npm-a', 'npm', npmA.url),
    r('npm-b', 'npm', npmB.url),
    r('pypi-a', 'pypi', pypiA.url),
    r('pypi-b', 'pypi', pypiB.url),
    virtualRepo('helm-all', { package: 'helm', members: ['helm-a', 'helm-down', 'helm-b'] }),
    virtualRepo('helm-none', { package: 'helm', members: ['helm-down'] }),
    virtualRepo('npm-all', { package: 'npm', members: ['npm-a', 'npm-b'] }),
    virtualRepo('pypi-all', { package: 'pypi', members: ['pypi-a', 'pypi-b'] }),
  ]);
}, 120_000);

afterAll(async () => {
  await orchard?.close();
  for (const up of [helmA, helmB, npmA, npmB]) await up.stop();
  await pypiA.stop();
  await pypiB.stop();
});

const virtualUrl = (name: string) => `${orchard.url}/api/v1/virtual/${name}`;

describe('helm virtual repository', () => {
  it('merges member indexes, first member winning, with chart URLs on the members', async () => {
    const { status, index } = await helmRepoIndex(virtualUrl('helm-all'));
    expect(status).toBe(200);
    expect(index!.entries.vault!.map((e) => e.urls[0])).toEqual([
      `${orchard.remoteUrl('helm-a')}/vault-0.27.0.tgz`,
    ]);
    expect(index!.entries.consul!.map((e) => e.urls[0])).toEqual([
      `${orchard.remoteUrl('helm-b')}/consul-1.0.0.tgz`,
    ]);
    const pulled = await helmPull(virtualUrl('helm-all'), 'consul', '1.0.0');
    expect(pulled.bytes).toEqual(helmBytes['consul-1.0.0']);
  });

  it("keeps the merged index for the members' smallest mutableTtl", async () => {
    const before = helmA.count('/index.yaml');
    const again = await helmRepoIndex(virtualUrl('helm-all'));
    expect(again.status).toBe(200);
    expect(helmA.count('/index.yaml')).toBe(before);
  });

  it('answers 502 when no member can be reached', async () => {
    const { status } = await helmRepoIndex(virtualUrl('helm-none'));
    expect(status).toBe(502);
  });
});

describe('npm virtual repository', () => {
  it('npm install resolves packages from every member, the first member winning a version', async () => {
    const dir = await tmpDir('virtual-npm-');
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
    );
    const npmrc = join(dir, '.npmrc');
    await writeFile(npmrc, `registry=${virtualUrl('npm-all')}/\n`);
    const run = await runClient(
      'npm',
      [
        'install',
        'virt-app',
        '--userconfig',
        npmrc,
        '--cache',
        join(dir, '.cache'),
        '--no-audit',
        '--no-fund',
      ],
      { cwd: dir, env: npmEnv() },
    );
    expect(run.code, describeRun(run)).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'node_modules/virt-app/package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({ '@virt/dep': '^1.0.0' });
    const dep = JSON.parse(await readFile(join(dir, 'node_modules/@virt/dep/package.json'), 'utf8'));
    expect(dep.version).toBe('1.0.0');
    const doc = (await (await fetch(`${virtualUrl('npm-all')}/virt-app`)).json()) as {
      versions: Record<string, { dist: { tarball: string } }>;
    };
    expect(Object.keys(doc.versions).sort()).toEqual(['0.9.0', '1.0.0']);
    expect(doc.versions['0.9.0']!.dist.tarball).toBe(
      `${orchard.remoteUrl('npm-b')}/virt-app/-/virt-app-0.9.0.tgz`,
    );
  });
});

describe('pypi virtual repository', () => {
  it('pip install resolves a package and its dependency from different members', async () => {
    const dir = await tmpDir('virtual-pip-');
    const run = await pip([
      'install',
      '--index-url',
      `${virtualUrl('pypi-all')}/simple/`,
      '--target',
      dir,
      'virt-app',
    ]);
    expect(run.code, describeRun(run)).toBe(0);
    expect(await readFile(join(dir, 'virt_app/__init__.py'), 'utf8')).toContain('1.0');
    expect(await readFile(join(dir, 'virt_dep/__init__.py'), 'utf8')).toContain('1.0');
  });
});
