import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { describeRun, npmEnv, type RunResult, rawGet, runClient } from './clients.ts';
import { type Orchard, remote, startOrchard } from './orchard.ts';
import { Verdaccio } from './verdaccio.ts';

// npm install and npm ci through an npm remote whose upstream is a real
// Verdaccio with scoped and unscoped packages, dependencies and several
// versions; then quarantine, misbehaving upstream documents and npm ci with
// Verdaccio stopped.

const day = 86_400_000;
const verdaccio = new Verdaccio();
let orchard: Orchard;
let badUpstream: Server;

beforeAll(async () => {
  await verdaccio.start();
  await verdaccio.publish({ name: '@orchard/util', version: '1.0.0' });
  await verdaccio.publish({ name: '@orchard/util', version: '1.1.0' });
  await verdaccio.publish({
    name: 'orchard-lib',
    version: '1.0.0',
    dependencies: { '@orchard/util': '^1.0.0' },
  });
  await verdaccio.publish({
    name: 'orchard-lib',
    version: '2.0.0',
    dependencies: { '@orchard/util': '^1.1.0' },
  });
  await verdaccio.publish({ name: 'orchard-corrupt', version: '1.0.0' });
  await verdaccio.corruptTarball('orchard-corrupt', 'orchard-corrupt-1.0.0.tgz');
  badUpstream = createServer((req, res) => {
    const body =
      req.url === '/broken'
        ? '{"name": "broken", "versions": {'
        : JSON.stringify({ name: 'huge', pad: 'x'.repeat(4096), versions: {} });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => badUpstream.listen(0, '127.0.0.1', resolve));
  const badUrl = `http://127.0.0.1:${(badUpstream.address() as AddressInfo).port}`;
  const old = new Date(Date.now() - 30 * day);
  await verdaccio.backdate('@orchard/util', ['1.0.0', '1.1.0'], old);
  await verdaccio.backdate('orchard-lib', ['1.0.0'], old);
  const spec = (extra: Record<string, unknown> = {}) => ({
    type: 'remote',
    package: 'npm',
    baseUrl: verdaccio.url,
    immutablePatterns: ['\\.tgz$'],
    staleOnError: ['network'],
    cache: { immutableTtl: 0, mutableTtl: 600, negativeTtl: 30 },
    ...extra,
  });
  orchard = await startOrchard([
    remote('npm', spec()),
    remote('npm-q', spec({ quarantine: { days: 7 } })),
    remote('npm-bad', spec({ baseUrl: badUrl, options: { maxIndexBytes: 1024 } })),
  ]);
}, 240_000);

afterAll(async () => {
  await orchard?.close();
  await verdaccio.stop();
  badUpstream?.closeAllConnections();
  badUpstream?.close();
});

/** Run npm in a project dir with only our registry configured (a temp userconfig and cache). */
async function npm(dir: string, registry: string, args: string[]): Promise<RunResult> {
  const npmrc = join(dir, '.npmrc');
  // The lockfile must record the tarball URLs npm resolved, whatever the
  // machine's own npm config says.
  await writeFile(npmrc, `registry=${registry}/\nomit-lockfile-registry-resolved=false\n`);
  return runClient(
    'npm',
    [
      ...args,
      '--userconfig',
      npmrc,
      '--cache',
      join(dir, '.npm-cache'),
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
    ],
    { cwd: dir, env: npmEnv() },
  );
}

async function project(): Promise<string> {
  const dir = await tmpDir('npm-project-');
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
  );
  return dir;
}

async function installed(dir: string, name: string): Promise<string> {
  return (
    JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

/** The project and lockfile the first install wrote, for `npm ci` later. */
const lockfile = { manifest: '', lock: '' };

describe('npm through an npm remote', () => {
  it('npm install resolves scoped and unscoped packages with their dependencies', async () => {
    const lockDir = await project();
    const run = await npm(lockDir, orchard.remoteUrl('npm'), ['install', 'orchard-lib']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(await installed(lockDir, 'orchard-lib')).toBe('2.0.0');
    expect(await installed(lockDir, '@orchard/util')).toBe('1.1.0');
    lockfile.manifest = await readFile(join(lockDir, 'package.json'), 'utf8');
    lockfile.lock = await readFile(join(lockDir, 'package-lock.json'), 'utf8');
    expect(lockfile.lock).toContain(`${orchard.remoteUrl('npm')}/@orchard/util/-/util-1.1.0.tgz`);
  });

  it('serves the packument in both scoped forms with tarballs routed through the remote', async () => {
    for (const name of ['@orchard%2futil', '@orchard/util']) {
      const res = await fetch(`${orchard.remoteUrl('npm')}/${name}`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { versions: Record<string, { dist: { tarball: string } }> };
      expect(doc.versions['1.0.0']!.dist.tarball).toBe(
        `${orchard.remoteUrl('npm')}/@orchard/util/-/util-1.0.0.tgz`,
      );
    }
  });

  it('caches the abbreviated packument apart from the full one', async () => {
    const url = `${orchard.remoteUrl('npm')}/orchard-lib`;
    const corgi = await fetch(url, {
      headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' },
    });
    expect(corgi.headers.get('content-type')).toMatch(/^application\/vnd\.npm\.install-v1\+json/);
    const abbreviated = (await corgi.json()) as Record<string, unknown>;
    expect(abbreviated.time).toBeUndefined();
    const full = (await (await fetch(url, { headers: { accept: 'application/json' } })).json()) as Record<
      string,
      unknown
    >;
    expect(full.time).toBeDefined();
  });

  it('answers errors in the shape npm shows', async () => {
    const dir = await project();
    const run = await npm(dir, orchard.remoteUrl('npm'), ['install', 'orchard-missing-package']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/404/);
    expect(run.stderr).toMatch(/does not exist upstream/);
  });

  it('finds a version published after the packument was cached', async () => {
    await verdaccio.publish({ name: '@orchard/util', version: '1.2.0' });
    expect(await orchard.engine.hints.get('npm', '@orchard/util/-/util-1.2.0.tgz')).toBeUndefined();
    const res = await fetch(`${orchard.remoteUrl('npm')}/@orchard/util/-/util-1.2.0.tgz`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    // The packument was fetched again once to learn the new version's integrity and publish time.
    const hint = await orchard.engine.hints.get('npm', '@orchard/util/-/util-1.2.0.tgz');
    expect(hint?.digest?.algorithm).toBe('sha512');
    expect(hint?.publishedAt).toBeInstanceOf(Date);
  });
});

describe('quarantine on an npm remote', () => {
  it('a fresh npm install gets the older version', async () => {
    const dir = await project();
    const run = await npm(dir, orchard.remoteUrl('npm-q'), ['install', 'orchard-lib']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(await installed(dir, 'orchard-lib')).toBe('1.0.0');
    const doc = (await (await fetch(`${orchard.remoteUrl('npm-q')}/orchard-lib`)).json()) as {
      versions: Record<string, unknown>;
      time: Record<string, string>;
      'dist-tags': Record<string, string>;
    };
    expect(Object.keys(doc.versions)).toEqual(['1.0.0']);
    expect(doc.time['2.0.0']).toBeUndefined();
    expect(doc['dist-tags'].latest).toBe('1.0.0');
  });

  it('refuses the quarantined tarball itself with 404', async () => {
    const res = await fetch(`${orchard.remoteUrl('npm-q')}/orchard-lib/-/orchard-lib-2.0.0.tgz`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('QUARANTINED');
  });
});

describe('npm bad input', () => {
  it('fails a tarball whose bytes do not match dist.integrity, caching nothing', async () => {
    const dir = await project();
    const run = await npm(dir, orchard.remoteUrl('npm'), ['install', 'orchard-corrupt']);
    expect(run.code, describeRun(run)).not.toBe(0);
    const path = 'orchard-corrupt/-/orchard-corrupt-1.0.0.tgz';
    expect(await orchard.engine.index.get('npm', path)).toBeUndefined();
    const direct = await fetch(`${orchard.remoteUrl('npm')}/${path}`).then(
      async (r) =>
        r.status === 200
          ? r.arrayBuffer().then(
              () => 'complete',
              () => 'aborted',
            )
          : String(r.status),
      () => 'aborted',
    );
    expect(direct === 'aborted' || direct === '502').toBe(true);
    expect(await orchard.engine.index.get('npm', path)).toBeUndefined();
  });

  it("answers 502 for a malformed packument, in npm's error shape, caching nothing", async () => {
    const res = await fetch(`${orchard.remoteUrl('npm-bad')}/broken`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(/malformed/);
    expect(await orchard.engine.index.get('npm-bad', 'broken')).toBeUndefined();
  });

  it('answers 502 for a packument larger than maxIndexBytes, caching nothing', async () => {
    const res = await fetch(`${orchard.remoteUrl('npm-bad')}/huge`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than 1024 bytes/);
    expect(await orchard.engine.index.get('npm-bad', 'huge')).toBeUndefined();
  });

  it.each([
    ['@orchard%2f..%2f..%2fetc'],
    ['..%2fetc'],
    ['%2e%2e/etc'],
    ['@orchard/util/-/..%2f..%2fsecret.tgz'],
  ])('refuses the package path %s with 400', async (path) => {
    const res = await rawGet(`${orchard.remoteUrl('npm')}/${path}`);
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as { error: string }).error).toMatch(/invalid path/);
  });
});

describe('npm with Verdaccio stopped', () => {
  it('npm ci installs from the lockfile, every tarball from the cache', async () => {
    await verdaccio.stop();
    const dir = await project();
    await writeFile(join(dir, 'package.json'), lockfile.manifest);
    await writeFile(join(dir, 'package-lock.json'), lockfile.lock);
    const run = await npm(dir, orchard.remoteUrl('npm'), ['ci']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(await installed(dir, 'orchard-lib')).toBe('2.0.0');
    expect(await installed(dir, '@orchard/util')).toBe('1.1.0');
  });
});
