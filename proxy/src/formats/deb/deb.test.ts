import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeRemote } from '../../cache/testing.ts';
import { openIndex } from './decompress.ts';
import { debFormat } from './index.ts';
import { scanPackageIndex } from './packages.ts';
import { joinRelative, packageRootOf } from './paths.ts';
import { parseReleaseHints } from './release.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const h1 = sha('one');
const h2 = sha('two');

const packages = `Package: hello
Version: 1.0
Filename: pool/main/h/hello/hello_1.0_amd64.deb
Size: 10
SHA1: ${'a'.repeat(40)}
SHA256: ${h1}
Description: a
 long description
 SHA256: ${h2}

Package: nodigest
Filename: pool/main/n/nodigest/nodigest_1_all.deb

Package: escape
Filename: ../../etc/passwd
SHA256: ${h2}

Package: sha1only
Filename: pool/main/s/sha1only/sha1only_1_all.deb
SHA1: ${'b'.repeat(40)}
`;

describe('deb format', () => {
  it.each([
    ['debian/dists/bookworm/InRelease', 'mutable-builtin'],
    ['debian/dists/bookworm/Release.gpg', 'mutable-builtin'],
    ['debian/dists/bookworm/main/binary-amd64/Packages.xz', 'mutable-builtin'],
    ['debian/dists/bookworm/main/i18n/Translation-en.bz2', 'mutable-builtin'],
    ['dists/bookworm/main/source/Sources.gz', 'mutable-builtin'],
    ['flat/Packages.gz', 'mutable-builtin'],
    ['flat/Release', 'mutable-builtin'],
    [`debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/${h1}`, 'immutable-builtin'],
    ['debian/pool/main/h/hello/hello_1.0_amd64.deb', undefined],
    ['flat/hello_1.0_all.deb', undefined],
  ])('classifies %s as %s', (path, expected) => {
    expect(debFormat.classify(path)).toBe(expected);
  });

  it('reads the digest of a by-hash path and ignores unknown or malformed ones', () => {
    expect(
      debFormat.digestFromPath?.(`d/dists/s/main/binary-all/by-hash/SHA256/${h1.toUpperCase()}`),
    ).toEqual({
      algorithm: 'sha256',
      hex: h1,
    });
    expect(
      debFormat.digestFromPath?.('d/dists/s/main/binary-all/by-hash/MD5Sum/0123456789abcdef0123456789abcdef'),
    ).toBe(undefined);
    expect(debFormat.digestFromPath?.('d/dists/s/main/binary-all/by-hash/SHA256/abcd')).toBe(undefined);
  });

  it('pins indexes listed by a Release, not the Release or by-hash files', () => {
    expect(debFormat.pinnedByHint?.('d/dists/s/main/binary-amd64/Packages.gz')).toBe(true);
    expect(debFormat.pinnedByHint?.('flat/Packages')).toBe(true);
    expect(debFormat.pinnedByHint?.('d/dists/s/InRelease')).toBe(false);
    expect(debFormat.pinnedByHint?.(`d/dists/s/main/binary-amd64/by-hash/SHA256/${h1}`)).toBe(false);
    expect(debFormat.pinnedByHint?.('d/pool/main/h/hello/hello_1.0_amd64.deb')).toBe(false);
  });

  it('builds upstream URLs under the base URL', () => {
    const remote = makeRemote('deb', { package: 'deb', baseUrl: 'http://up.example/mirror/' });
    expect(debFormat.upstreamUrl(remote, 'debian/pool/main/c/c++/c++_1.0+b1_amd64.deb')).toBe(
      'http://up.example/mirror/debian/pool/main/c/c++/c++_1.0+b1_amd64.deb',
    );
  });

  it('finds the root that Filename is relative to', () => {
    expect(packageRootOf('debian/dists/bookworm/main/binary-amd64/Packages.xz')).toBe('debian/');
    expect(packageRootOf('dists/bookworm/main/binary-amd64/Packages.xz')).toBe('');
    expect(
      packageRootOf(`debian-security/dists/bookworm-security/main/binary-amd64/by-hash/SHA256/${h1}`),
    ).toBe('debian-security/');
    expect(packageRootOf('repo/flat/Packages.gz')).toBe('repo/flat/');
    expect(joinRelative('repo/flat/', './hello_1_all.deb')).toBe('repo/flat/hello_1_all.deb');
    expect(joinRelative('repo/', '../../x.deb')).toBe(undefined);
    expect(joinRelative('', '/etc/passwd')).toBe(undefined);
  });
});

describe('Release files', () => {
  const release = `Origin: Test
Suite: stable
MD5Sum:
 ${'c'.repeat(32)}  343 main/binary-amd64/Packages
SHA256:
 ${h1}              343 main/binary-amd64/Packages
 ${h2}              282 main/binary-amd64/Packages.gz
 nothex             282 main/binary-amd64/Packages.bad
SHA512:
 ${'d'.repeat(128)} 300 main/binary-amd64/Packages.xz
`;

  it('lists each index with its strongest digest, relative to the Release directory', () => {
    const hints = parseReleaseHints('debian/dists/stable/Release', release);
    expect(hints).toEqual([
      { path: 'debian/dists/stable/main/binary-amd64/Packages', digest: { algorithm: 'sha256', hex: h1 } },
      { path: 'debian/dists/stable/main/binary-amd64/Packages.gz', digest: { algorithm: 'sha256', hex: h2 } },
      {
        path: 'debian/dists/stable/main/binary-amd64/Packages.xz',
        digest: { algorithm: 'sha512', hex: 'd'.repeat(128) },
      },
    ]);
  });

  it('reads a clearsigned InRelease and stops at the signature', () => {
    const signed = `-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA512\r\n\r\n${release.replace(/\n/g, '\r\n')}-----BEGIN PGP SIGNATURE-----\r\n\r\n ${sha('x')} 1 evil\r\n-----END PGP SIGNATURE-----\r\n`;
    const hints = parseReleaseHints('dists/stable/InRelease', signed);
    expect(hints.map((h) => h.path)).toEqual([
      'dists/stable/main/binary-amd64/Packages',
      'dists/stable/main/binary-amd64/Packages.gz',
      'dists/stable/main/binary-amd64/Packages.xz',
    ]);
  });

  it('is rewritten to the same bytes with those hints', async () => {
    const handler = debFormat.indexHandler?.('dists/stable/InRelease', undefined);
    const out = await handler!.rewrite({
      remote: makeRemote('deb', { package: 'deb' }),
      path: 'dists/stable/InRelease',
      body: Buffer.from(release),
      proxyBase: 'http://proxy/api/v1/remote/deb',
    });
    expect(out.body.toString()).toBe(release);
    expect(out.hints).toHaveLength(3);
    expect(debFormat.indexHandler?.('dists/stable/Release.gpg', undefined)).toBe(undefined);
  });
});

describe('Packages and Sources indexes', () => {
  it('hint each package file with its SHA256, skipping stanzas without a path or usable digest', async () => {
    const hints = await scanPackageIndex(Readable.from([Buffer.from(packages)]), 'debian/');
    expect(hints).toEqual([
      { path: 'debian/pool/main/h/hello/hello_1.0_amd64.deb', digest: { algorithm: 'sha256', hex: h1 } },
      {
        path: 'debian/pool/main/s/sha1only/sha1only_1_all.deb',
        digest: { algorithm: 'sha1', hex: 'b'.repeat(40) },
      },
    ]);
  });

  it('hint every file of a source stanza in its Directory', async () => {
    const sources = `Package: hello\nDirectory: pool/main/h/hello\nChecksums-Sha256:\n ${h1} 10 hello_1.0.dsc\n ${h2} 20 hello_1.0.tar.xz\nFiles:\n ${'e'.repeat(32)} 10 hello_1.0.dsc\n`;
    const hints = await scanPackageIndex(Readable.from([Buffer.from(sources)]), '');
    expect(hints).toEqual([
      { path: 'pool/main/h/hello/hello_1.0.dsc', digest: { algorithm: 'sha256', hex: h1 } },
      { path: 'pool/main/h/hello/hello_1.0.tar.xz', digest: { algorithm: 'sha256', hex: h2 } },
    ]);
  });

  const compressions: [string, (b: Buffer) => Buffer][] = [
    ['plain', (b) => b],
    ['gzip', (b) => gzipSync(b)],
    ['zstd', (b) => zstdCompressSync(b)],
    ['xz', (b) => execFileSync('xz', ['-c'], { input: b })],
  ];
  it.each(compressions)('are read when %s-compressed, also by hash', async (_name, compress) => {
    const body = compress(Buffer.from(packages));
    for (const path of [
      'debian/dists/stable/main/binary-amd64/Packages.gz',
      `debian/dists/stable/main/binary-amd64/by-hash/SHA256/${sha('whatever')}`,
    ]) {
      const handler = debFormat.indexHandler?.(path, undefined);
      const out = await handler!.rewrite({
        remote: makeRemote('deb', { package: 'deb' }),
        path,
        body,
        proxyBase: 'http://proxy/api/v1/remote/deb',
      });
      expect(out.body.equals(body)).toBe(true);
      expect(out.hints?.map((h) => h.path)).toEqual([
        'debian/pool/main/h/hello/hello_1.0_amd64.deb',
        'debian/pool/main/s/sha1only/sha1only_1_all.deb',
      ]);
    }
  });

  it('yield no hints, and no failure, for an index that cannot be decompressed', async () => {
    const path = 'dists/stable/main/binary-amd64/Packages.gz';
    const corrupt = gzipSync(Buffer.from(packages)).subarray(0, 20);
    const out = await debFormat.indexHandler?.(path, undefined)?.rewrite({
      remote: makeRemote('deb', { package: 'deb' }),
      path,
      body: corrupt,
      proxyBase: 'http://proxy/api/v1/remote/deb',
    });
    expect(out?.body.equals(corrupt)).toBe(true);
    expect(out?.hints).toEqual([]);
  });

  it('yield no hints, and no failure, when the xz binary is missing', async () => {
    const path = 'dists/stable/main/binary-amd64/Packages.xz';
    const body = execFileSync('xz', ['-c'], { input: Buffer.from(packages) });
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const out = await debFormat.indexHandler?.(path, undefined)?.rewrite({
        remote: makeRemote('deb', { package: 'deb' }),
        path,
        body,
        proxyBase: 'http://proxy/api/v1/remote/deb',
      });
      expect(out?.body.equals(body)).toBe(true);
      expect(out?.hints).toEqual([]);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('stop decompressing past the size limit', async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024));
    const stream = openIndex(bomb, { maxBytes: 1024 * 1024 });
    await expect(async () => {
      for await (const _ of stream);
    }).rejects.toThrow(/larger than/);
  });

  it('have no handler for translations fetched by hash', () => {
    expect(debFormat.indexHandler?.(`dists/s/main/i18n/by-hash/SHA256/${h1}`, undefined)).toBe(undefined);
  });
});
