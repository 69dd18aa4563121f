import { describe, expect, it } from 'vitest';
import { makeRemote } from '../../cache/testing.ts';
import { ApiError } from '../../http/errors.ts';
import type { RewriteInput } from '../format.ts';
import { negotiateSimple, pypiFormat } from './index.ts';
import { canonicalPypiPath, distributionOf, normalizeProjectName } from './names.ts';

const remote = makeRemote('py', { package: 'pypi', baseUrl: 'http://files.test/' });
const sha = (c: string) => c.repeat(64);
const day = 86_400_000;

function input(
  path: string,
  body: string,
  contentType: string,
  extra: Partial<RewriteInput> = {},
): RewriteInput {
  return {
    remote,
    path,
    body: Buffer.from(body),
    contentType,
    proxyBase: 'http://proxy.test/api/v1/remote/py',
    ...extra,
  };
}

async function rewrite(i: RewriteInput) {
  const handler = pypiFormat.indexHandler?.(i.path, i.contentType);
  if (!handler) throw new Error(`no index handler for ${i.path}`);
  return handler.rewrite(i);
}

const jsonPage = JSON.stringify({
  meta: { 'api-version': '1.1' },
  name: 'demo-pkg',
  versions: ['1.0', '2.0'],
  files: [
    {
      filename: 'demo_pkg-1.0-py3-none-any.whl',
      url: 'http://files.test/packages/aa/demo_pkg-1.0-py3-none-any.whl',
      hashes: { sha256: sha('a') },
      'requires-python': '>=3.8',
      'core-metadata': { sha256: sha('b') },
      'upload-time': new Date(Date.now() - 30 * day).toISOString(),
    },
    {
      filename: 'demo_pkg-2.0.tar.gz',
      url: '../../packages/cc/demo_pkg-2.0.tar.gz',
      hashes: { sha256: sha('c') },
      yanked: 'broken',
      'upload-time': new Date(Date.now() - day).toISOString(),
    },
  ],
});

describe('pypi names', () => {
  it.each([
    ['Foo_Bar', 'foo-bar'],
    ['foo.bar--baz', 'foo-bar-baz'],
    ['ZOPE.Interface', 'zope-interface'],
  ])('normalizes %s to %s (PEP 503)', (name, want) => {
    expect(normalizeProjectName(name)).toBe(want);
  });

  it.each([
    ['Demo_Pkg-1.0-py3-none-any.whl', { project: 'demo-pkg', version: '1.0' }],
    ['demo_pkg-1.0-1-py3-none-any.whl.metadata', { project: 'demo-pkg', version: '1.0' }],
    ['legacy-name-2.1.tar.gz', { project: 'legacy-name', version: '2.1' }],
    ['README.txt', undefined],
  ])('finds the distribution of %s', (file, want) => {
    expect(distributionOf(file)).toEqual(want);
  });

  it.each([
    ['simple/Foo_Bar/', 'json', 'simple/foo-bar/#json'],
    ['simple/Foo_Bar/', 'html', 'simple/foo-bar/'],
    ['simple/', 'json', 'simple/#json'],
    ['simple/foo', 'html', 'simple/foo'],
    ['packages/aa/x.whl', 'json', 'packages/aa/x.whl'],
  ] as const)('canonicalizes %s (%s) to %s', (path, variant, want) => {
    expect(canonicalPypiPath(path, variant)).toBe(want);
  });

  it.each([
    ['simple/-bad-/', 'INVALID_NAME'],
    ['simple/foo/#json', 'INVALID_PATH'],
  ])('rejects %s with %s', (path, code) => {
    expect(() => canonicalPypiPath(path, 'html')).toThrow(expect.objectContaining({ code }));
  });
});

describe('pypi negotiation (PEP 691)', () => {
  it.each([
    [
      'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01',
      'json',
    ],
    ['text/html', 'html'],
    [undefined, 'html'],
    ['*/*', 'html'],
    ['application/vnd.pypi.simple.v1+json;q=0, text/html', 'html'],
    ['text/html;q=0.5, application/vnd.pypi.simple.latest+json', 'json'],
  ])('Accept %s gets %s', (accept, want) => {
    expect(negotiateSimple(accept)).toBe(want);
  });

  it('keys the JSON and HTML representations apart', () => {
    const json = pypiFormat.requestPath!('simple/demo/', { accept: 'application/vnd.pypi.simple.v1+json' });
    const html = pypiFormat.requestPath!('simple/demo/', { accept: 'text/html' });
    expect(json).not.toBe(html);
    expect(pypiFormat.classify(json)).toBe('mutable-builtin');
    expect(pypiFormat.upstreamUrl(remote, json)).toBe(pypiFormat.upstreamUrl(remote, html));
  });
});

describe('pypi upstream URLs', () => {
  it('fetches pages from {baseUrl}/simple/ and files from baseUrl by default', () => {
    expect(pypiFormat.upstreamUrl(remote, 'simple/demo/#json')).toBe('http://files.test/simple/demo/');
    expect(pypiFormat.upstreamUrl(remote, 'packages/a b/x.whl')).toBe(
      'http://files.test/packages/a%20b/x.whl',
    );
  });

  it('fetches pages from options.pypiIndexUrl when set', () => {
    const r = makeRemote('py', {
      package: 'pypi',
      baseUrl: 'http://files.test/',
      options: { pypiIndexUrl: 'http://index.test/simple' },
    });
    expect(pypiFormat.upstreamUrl(r, 'simple/demo/')).toBe('http://index.test/simple/demo/');
    expect(pypiFormat.upstreamUrl(r, 'simple/')).toBe('http://index.test/simple/');
    expect(pypiFormat.upstreamHeaders!(r, 'simple/demo/').accept).toContain(
      'application/vnd.pypi.simple.v1+json',
    );
  });

  it('names the project page as the hint source of a file', () => {
    expect(pypiFormat.hintSource!('packages/aa/Demo_Pkg-1.0-py3-none-any.whl')).toBe('simple/demo-pkg/');
    expect(pypiFormat.hintSource!('simple/demo/')).toBeUndefined();
  });
});

describe('pypi page rewriting', () => {
  it('renders a JSON upstream page as HTML with relative URLs, hashes and data attributes', async () => {
    const out = await rewrite(input('simple/demo-pkg/', jsonPage, 'application/vnd.pypi.simple.v1+json'));
    const html = out.body.toString();
    expect(out.contentType).toMatch(/^text\/html/);
    expect(html).toContain(`href="../../packages/aa/demo_pkg-1.0-py3-none-any.whl#sha256=${sha('a')}"`);
    expect(html).toContain('data-requires-python="&#62;=3.8"');
    expect(html).toContain(`data-core-metadata="sha256=${sha('b')}"`);
    expect(html).toContain(
      `href="../../packages/cc/demo_pkg-2.0.tar.gz#sha256=${sha('c')}" data-yanked="broken"`,
    );
    expect(out.hints).toEqual([
      expect.objectContaining({
        path: 'packages/aa/demo_pkg-1.0-py3-none-any.whl',
        digest: { algorithm: 'sha256', hex: sha('a') },
      }),
      expect.objectContaining({
        path: 'packages/aa/demo_pkg-1.0-py3-none-any.whl.metadata',
        digest: { algorithm: 'sha256', hex: sha('b') },
      }),
      expect.objectContaining({
        path: 'packages/cc/demo_pkg-2.0.tar.gz',
        digest: { algorithm: 'sha256', hex: sha('c') },
      }),
    ]);
    expect(out.hints![0]!.publishedAt).toBeInstanceOf(Date);
  });

  it('renders an HTML upstream page as PEP 691 JSON', async () => {
    const html = `<!DOCTYPE html><html><body>
      <a href="/packages/aa/demo-1.0.tar.gz#sha256=${sha('d')}" data-requires-python="&gt;=3.7" data-dist-info-metadata="true">demo-1.0.tar.gz</a>
      <A HREF='https://elsewhere.test/x/demo-1.1.tar.gz' data-yanked>demo-1.1.tar.gz</A>
    </body></html>`;
    const out = await rewrite(input('simple/demo/#json', html, 'text/html'));
    expect(out.contentType).toBe('application/vnd.pypi.simple.v1+json');
    const doc = JSON.parse(out.body.toString());
    expect(doc.meta['api-version']).toBe('1.1');
    expect(doc.files).toEqual([
      {
        filename: 'demo-1.0.tar.gz',
        url: '../../packages/aa/demo-1.0.tar.gz',
        hashes: { sha256: sha('d') },
        'requires-python': '>=3.7',
        'core-metadata': true,
        'dist-info-metadata': true,
      },
      { filename: 'demo-1.1.tar.gz', url: '../../x/demo-1.1.tar.gz', hashes: {}, yanked: true },
    ]);
  });

  it('hides quarantined files and versions whose files are all hidden', async () => {
    const isQuarantined = (_p: string, at: Date | undefined) => !!at && at.getTime() > Date.now() - 3 * day;
    const out = await rewrite(
      input('simple/demo-pkg/#json', jsonPage, 'application/json', { isQuarantined }),
    );
    const doc = JSON.parse(out.body.toString());
    expect(doc.files.map((f: { filename: string }) => f.filename)).toEqual(['demo_pkg-1.0-py3-none-any.whl']);
    expect(doc.versions).toEqual(['1.0']);
    // The hidden file keeps its hint (upload time), so the engine refuses a direct download.
    expect(out.hints!.find((h) => h.path === 'packages/cc/demo_pkg-2.0.tar.gz')?.publishedAt).toBeInstanceOf(
      Date,
    );
  });

  it('computes relative URLs from the page path depth', async () => {
    const out = await rewrite(input('simple/demo-pkg#json', jsonPage, 'application/json'));
    expect(JSON.parse(out.body.toString()).files[0].url).toBe('../packages/aa/demo_pkg-1.0-py3-none-any.whl');
  });

  it('lists normalized projects on the root page', async () => {
    const root = JSON.stringify({
      meta: { 'api-version': '1.0' },
      projects: [{ name: 'Foo_Bar' }, { name: 'baz' }],
    });
    const html = (
      await rewrite(input('simple/', root, 'application/vnd.pypi.simple.v1+json'))
    ).body.toString();
    expect(html).toContain('<a href="foo-bar/">foo-bar</a>');
    const json = JSON.parse((await rewrite(input('simple/#json', root, 'application/json'))).body.toString());
    expect(json.projects).toEqual([{ name: 'foo-bar' }, { name: 'baz' }]);
  });

  it.each([
    ['invalid JSON', '{"files": [', 'application/vnd.pypi.simple.v1+json'],
    ['files not a list', '{"files": 3}', 'application/vnd.pypi.simple.v1+json'],
    ['a file without url', '{"files": [{"filename": "x.whl"}]}', 'application/json'],
  ])('refuses a malformed page (%s) with UPSTREAM_ERROR', async (_name, body, ct) => {
    const err = await rewrite(input('simple/demo/', body, ct)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('UPSTREAM_ERROR');
  });
});

describe('pypi virtual merge', () => {
  it('unions member files, first member winning, with absolute member URLs', async () => {
    const a = await rewrite(input('simple/demo-pkg/#json', jsonPage, 'application/json'));
    const otherPage = JSON.stringify({
      files: [
        {
          filename: 'demo_pkg-2.0.tar.gz',
          url: 'http://files.test/other/demo_pkg-2.0.tar.gz',
          hashes: { sha256: sha('e') },
        },
        {
          filename: 'demo_pkg-3.0.tar.gz',
          url: 'http://files.test/other/demo_pkg-3.0.tar.gz',
          hashes: { sha256: sha('f') },
        },
      ],
    });
    const b = await rewrite(input('simple/demo-pkg/#json', otherPage, 'application/json'));
    const merged = await pypiFormat.mergeIndexes!({
      path: 'simple/demo-pkg/#json',
      proxyBase: 'http://proxy.test/api/v1/virtual/all',
      members: [
        { remote, body: a.body, contentType: a.contentType, proxyBase: 'http://proxy.test/api/v1/remote/a' },
        { remote, body: b.body, contentType: b.contentType, proxyBase: 'http://proxy.test/api/v1/remote/b' },
      ],
    });
    const files = JSON.parse(merged.body.toString()).files as {
      filename: string;
      url: string;
      hashes: unknown;
    }[];
    expect(files.map((f) => [f.filename, f.url])).toEqual([
      [
        'demo_pkg-1.0-py3-none-any.whl',
        'http://proxy.test/api/v1/remote/a/packages/aa/demo_pkg-1.0-py3-none-any.whl',
      ],
      ['demo_pkg-2.0.tar.gz', 'http://proxy.test/api/v1/remote/a/packages/cc/demo_pkg-2.0.tar.gz'],
      ['demo_pkg-3.0.tar.gz', 'http://proxy.test/api/v1/remote/b/other/demo_pkg-3.0.tar.gz'],
    ]);
  });
});
