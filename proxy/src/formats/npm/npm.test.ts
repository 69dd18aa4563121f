import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeRemote } from '../../cache/testing.ts';
import { ApiError } from '../../http/errors.ts';
import type { RewriteInput } from '../format.ts';
import { npmFormat } from './index.ts';
import { tarballDigest } from './integrity.ts';
import { canonicalNpmPath, parseNpmPath, prepareNpmPath } from './names.ts';
import { fallbackVersion } from './semver.ts';

const remote = makeRemote('npm', { package: 'npm', baseUrl: 'http://registry.test/' });
const proxyBase = 'http://proxy.test/api/v1/remote/npm';
const day = 86_400_000;
const now = Date.now();
const iso = (ago: number) => new Date(now - ago).toISOString();
const sri = (s: string) => `sha512-${createHash('sha512').update(s).digest('base64')}`;

function packument() {
  const version = (v: string) => ({
    name: '@acme/widget',
    version: v,
    description: 'full-only field',
    scripts: v === '2.0.0' ? { postinstall: 'node x.js' } : {},
    dependencies: { leftpad: '^1.0.0' },
    dist: {
      tarball: `http://registry.test/@acme/widget/-/widget-${v}.tgz`,
      integrity: sri(v),
      shasum: 'a'.repeat(40),
    },
  });
  return {
    _id: '@acme/widget',
    name: '@acme/widget',
    'dist-tags': { latest: '2.0.0', next: '2.1.0-beta.1', old: '1.0.0' },
    versions: {
      '1.0.0': version('1.0.0'),
      '1.1.0': version('1.1.0'),
      '2.0.0': version('2.0.0'),
      '2.1.0-beta.1': version('2.1.0-beta.1'),
    },
    time: {
      created: iso(60 * day),
      modified: iso(day),
      '1.0.0': iso(60 * day),
      '1.1.0': iso(30 * day),
      '2.0.0': iso(day),
      '2.1.0-beta.1': iso(day),
    },
  };
}

async function rewrite(path: string, body: unknown, extra: Partial<RewriteInput> = {}) {
  const handler = npmFormat.indexHandler!(path, 'application/json')!;
  const input: RewriteInput = {
    remote,
    path,
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    proxyBase,
    ...extra,
  };
  const out = await handler.rewrite(input);
  return { ...out, doc: JSON.parse(out.body.toString()) };
}

describe('npm paths', () => {
  it.each([
    ['@acme%2fwidget', '@acme/widget'],
    ['@acme%2Fwidget/-/widget-1.0.0.tgz', '@acme/widget/-/widget-1.0.0.tgz'],
    ['plain', 'plain'],
    ['plain%2fother', 'plain%2fother'],
  ])('prepares %s as %s', (raw, want) => {
    expect(prepareNpmPath(raw)).toBe(want);
  });

  it.each([
    ['leftpad', { kind: 'packument', name: 'leftpad', abbreviated: false }],
    ['@acme/widget#install-v1', { kind: 'packument', name: '@acme/widget', abbreviated: true }],
    ['@acme/widget/1.0.0', { kind: 'version', name: '@acme/widget', version: '1.0.0' }],
    ['@acme/widget/-/widget-1.0.0.tgz', { kind: 'tarball', name: '@acme/widget', file: 'widget-1.0.0.tgz' }],
    ['-/v1/search', { kind: 'other' }],
  ])('parses %s', (path, want) => {
    expect(parseNpmPath(path)).toEqual(want);
  });

  it('keys the abbreviated packument apart from the full one', () => {
    const corgi = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
    expect(canonicalNpmPath('@acme/widget', corgi)).toBe('@acme/widget#install-v1');
    expect(canonicalNpmPath('@acme/widget', 'application/json')).toBe('@acme/widget');
    expect(canonicalNpmPath('@acme/widget/-/widget-1.0.0.tgz', corgi)).toBe(
      '@acme/widget/-/widget-1.0.0.tgz',
    );
  });

  it.each([
    ['@acme/wid get', 'INVALID_NAME'],
    ['.hidden', 'INVALID_NAME'],
    ['@acme/widget#install-v1', 'INVALID_PATH'],
  ])('rejects %s with %s', (path, code) => {
    expect(() => canonicalNpmPath(path, undefined)).toThrow(expect.objectContaining({ code }));
  });

  it('fetches scoped packuments as one @scope%2fname segment, tarballs as paths', () => {
    expect(npmFormat.upstreamUrl(remote, '@acme/widget#install-v1')).toBe(
      'http://registry.test/@acme%2fwidget',
    );
    expect(npmFormat.upstreamUrl(remote, 'leftpad')).toBe('http://registry.test/leftpad');
    expect(npmFormat.upstreamUrl(remote, '@acme/widget/-/widget-1.0.0.tgz')).toBe(
      'http://registry.test/@acme/widget/-/widget-1.0.0.tgz',
    );
    expect(npmFormat.classify('@acme/widget')).toBe('mutable-builtin');
    expect(npmFormat.classify('@acme/widget/-/widget-1.0.0.tgz')).toBeUndefined();
    expect(npmFormat.hintSource!('@acme/widget/-/widget-1.0.0.tgz')).toBe('@acme/widget');
  });
});

describe('npm integrity', () => {
  it('prefers sha512 from the SRI string, then shasum', () => {
    const hex = createHash('sha512').update('x').digest('hex');
    expect(tarballDigest({ integrity: `sha1-AAAA ${sri('x')}`, shasum: 'b'.repeat(40) })).toEqual({
      algorithm: 'sha512',
      hex,
    });
    expect(tarballDigest({ shasum: 'B'.repeat(40) })).toEqual({ algorithm: 'sha1', hex: 'b'.repeat(40) });
    expect(tarballDigest({ integrity: 'sha512-short', shasum: 'nope' })).toBeUndefined();
  });
});

describe('npm packument rewriting', () => {
  it('points every tarball at the remote and records integrity and publish time hints', async () => {
    const out = await rewrite('@acme/widget', packument());
    expect(out.contentType).toBe('application/json');
    expect(out.doc.versions['1.0.0'].dist.tarball).toBe(`${proxyBase}/@acme/widget/-/widget-1.0.0.tgz`);
    expect(out.doc.versions['1.0.0'].description).toBe('full-only field');
    const hint = out.hints!.find((h) => h.path === '@acme/widget/-/widget-1.0.0.tgz')!;
    expect(hint.digest).toEqual({
      algorithm: 'sha512',
      hex: createHash('sha512').update('1.0.0').digest('hex'),
    });
    expect(hint.publishedAt).toEqual(new Date(packument().time['1.0.0']));
  });

  it('builds the abbreviated form from the full packument', async () => {
    const out = await rewrite('@acme/widget#install-v1', packument());
    expect(out.contentType).toBe('application/vnd.npm.install-v1+json');
    expect(Object.keys(out.doc).sort()).toEqual(['dist-tags', 'modified', 'name', 'versions']);
    const v2 = out.doc.versions['2.0.0'];
    expect(v2.description).toBeUndefined();
    expect(v2.scripts).toBeUndefined();
    expect(v2.hasInstallScript).toBe(true);
    expect(v2.dependencies).toEqual({ leftpad: '^1.0.0' });
    expect(v2.dist.tarball).toBe(`${proxyBase}/@acme/widget/-/widget-2.0.0.tgz`);
  });

  it('removes quarantined versions from versions and time and moves their dist-tags', async () => {
    const isQuarantined = (_p: string, at: Date | undefined) => !!at && at.getTime() > Date.now() - 7 * day;
    const out = await rewrite('@acme/widget', packument(), { isQuarantined });
    expect(Object.keys(out.doc.versions)).toEqual(['1.0.0', '1.1.0']);
    expect(out.doc.time['2.0.0']).toBeUndefined();
    expect(out.doc.time['1.1.0']).toBeDefined();
    expect(out.doc['dist-tags']).toEqual({ latest: '1.1.0', next: '1.1.0', old: '1.0.0' });
    // Hidden versions keep their hints, so the engine refuses their tarballs by publish date.
    expect(out.hints!.map((h) => h.path)).toContain('@acme/widget/-/widget-2.0.0.tgz');
  });

  it('rewrites a single version manifest', async () => {
    const out = await rewrite('@acme/widget/1.0.0', packument().versions['1.0.0']);
    expect(out.doc.dist.tarball).toBe(`${proxyBase}/@acme/widget/-/widget-1.0.0.tgz`);
    expect(out.hints).toHaveLength(1);
  });

  it.each([
    ['invalid JSON', '{"versions": {'],
    ['an array', '[]'],
    ['versions not an object', '{"versions": 1}'],
    ['a version not an object', '{"versions": {"1.0.0": "x"}}'],
  ])('refuses a malformed packument (%s) with UPSTREAM_ERROR', async (_name, body) => {
    const err = await rewrite('leftpad', body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('UPSTREAM_ERROR');
  });
});

describe('npm dist-tag fallback', () => {
  it.each([
    ['2.0.0', ['1.0.0', '1.5.0', '3.0.0-beta.1', '1.9.9-rc.1'], '1.5.0'],
    ['3.0.0-beta.2', ['1.0.0', '3.0.0-beta.1'], '3.0.0-beta.1'],
    ['1.0.0', ['2.0.0'], undefined],
    ['1.0.0-rc.10', ['1.0.0-rc.9', '1.0.0-rc.2'], '1.0.0-rc.9'],
  ])('moves a tag from %s among %j to %s', (hidden, remaining, want) => {
    expect(fallbackVersion(hidden, remaining)).toBe(want);
  });
});

describe('npm virtual merge', () => {
  it('takes the first member document and adds versions and tags it lacks', async () => {
    const a = await rewrite('@acme/widget', packument());
    const other = packument();
    other.versions['9.0.0' as '1.0.0'] = { ...other.versions['1.0.0'], version: '9.0.0' };
    other['dist-tags'].latest = '9.0.0';
    (other['dist-tags'] as Record<string, string>).canary = '9.0.0';
    const b = await rewrite('@acme/widget', other, { proxyBase: 'http://proxy.test/api/v1/remote/b' });
    const merged = await npmFormat.mergeIndexes!({
      path: '@acme/widget',
      proxyBase: 'http://proxy.test/api/v1/virtual/all',
      members: [
        { remote, body: a.body, proxyBase },
        { remote, body: b.body, proxyBase: 'http://proxy.test/api/v1/remote/b' },
      ],
    });
    const doc = JSON.parse(merged.body.toString());
    expect(doc['dist-tags'].latest).toBe('2.0.0');
    expect(doc['dist-tags'].canary).toBe('9.0.0');
    expect(doc.versions['1.0.0'].dist.tarball).toBe(`${proxyBase}/@acme/widget/-/widget-1.0.0.tgz`);
    expect(doc.versions['9.0.0'].dist.tarball).toMatch(/^http:\/\/proxy\.test\/api\/v1\/remote\/b\//);
  });
});
