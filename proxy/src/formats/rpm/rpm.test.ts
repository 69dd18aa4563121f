import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeRemote } from '../../cache/testing.ts';
import { rpmFormat } from './index.ts';
import { scanPrimary } from './primary.ts';
import { parseRepomdHints } from './repomd.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const [h1, h2, h3] = [sha('1'), sha('2'), sha('3')];

const primary = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="4">
<package type="rpm">
  <name>hello</name>
  <checksum type="sha256" pkgid="YES">${h1}</checksum>
  <packager>Someone &lt;s@example.invalid&gt;</packager>
  <location href="Packages/h/hello-1.0-1.x86_64.rpm"/>
</package>
<package type="rpm"><name>amp</name><checksum type='sha' pkgid='YES'>${'a'.repeat(40)}</checksum><location href="Packages/a/a&amp;b-1.0-1.noarch.rpm"/></package>
<package type="rpm"><name>elsewhere</name><checksum type="sha256" pkgid="YES">${h2}</checksum><location xml:base="http://other.example/" href="x.rpm"/></package>
<package type="rpm"><name>md5</name><checksum type="md5" pkgid="YES">${'b'.repeat(32)}</checksum><location href="m.rpm"/></package>
<package type="rpm"><name>escape</name><checksum type="sha256" pkgid="YES">${h3}</checksum><location href="../../../../etc/passwd"/></package>
</metadata>
`;

const expected = [
  { path: 'el/9/os/Packages/h/hello-1.0-1.x86_64.rpm', digest: { algorithm: 'sha256', hex: h1 } },
  { path: 'el/9/os/Packages/a/a&b-1.0-1.noarch.rpm', digest: { algorithm: 'sha1', hex: 'a'.repeat(40) } },
];

describe('rpm format', () => {
  it.each([
    ['el/9/os/repodata/repomd.xml', 'mutable-builtin'],
    ['el/9/os/repodata/repomd.xml.asc', 'mutable-builtin'],
    ['repodata/repomd.xml', 'mutable-builtin'],
    [`el/9/os/repodata/${h1}-primary.xml.gz`, 'immutable-builtin'],
    [`el/9/os/repodata/${'c'.repeat(40)}-comps.xml`, 'immutable-builtin'],
    ['el/9/os/repodata/primary.xml.gz', 'mutable-builtin'],
    ['suse/Packages.gz', 'mutable-builtin'],
    ['el/9/os/Packages/h/hello-1.0-1.x86_64.rpm', undefined],
    ['el/9/os/repodata/sub/x.xml', undefined],
  ])('classifies %s as %s', (path, cls) => {
    expect(rpmFormat.classify(path)).toBe(cls);
  });

  it('sends repodata files to their repomd.xml for hints, and pins the mutable ones', () => {
    expect(rpmFormat.hintSource?.(`el/9/os/repodata/${h1}-primary.xml.gz`)).toBe(
      'el/9/os/repodata/repomd.xml',
    );
    expect(rpmFormat.hintSource?.('repodata/primary.xml.gz')).toBe('repodata/repomd.xml');
    expect(rpmFormat.hintSource?.('el/9/os/repodata/repomd.xml')).toBe(undefined);
    expect(rpmFormat.hintSource?.('el/9/os/Packages/h/hello-1.0-1.x86_64.rpm')).toBe(undefined);
    expect(rpmFormat.pinnedByHint?.('el/9/os/repodata/primary.xml.gz')).toBe(true);
    expect(rpmFormat.pinnedByHint?.('el/9/os/repodata/repomd.xml')).toBe(false);
  });

  it('reads repomd.xml checksums (not open-checksums) as hints for the files it lists', () => {
    const repomd = `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="primary">
    <checksum type="sha256">${h1}</checksum>
    <open-checksum type="sha256">${h2}</open-checksum>
    <location href="repodata/${h1}-primary.xml.gz"/>
  </data>
  <data type="other"><open-checksum type="sha256">${h2}</open-checksum><checksum type="sha512">${'d'.repeat(128)}</checksum><location href="repodata/other.xml.gz"/></data>
  <data type="group"><checksum type="md5">${'e'.repeat(32)}</checksum><location href="repodata/comps.xml"/></data>
</repomd>`;
    expect(parseRepomdHints('el/9/os/repodata/repomd.xml', repomd)).toEqual([
      { path: `el/9/os/repodata/${h1}-primary.xml.gz`, digest: { algorithm: 'sha256', hex: h1 } },
      { path: 'el/9/os/repodata/other.xml.gz', digest: { algorithm: 'sha512', hex: 'd'.repeat(128) } },
    ]);
  });

  it('hints each package of primary.xml with its checksum, skipping unusable ones', async () => {
    expect(await scanPrimary(Readable.from([Buffer.from(primary)]), 'el/9/os/')).toEqual(expected);
  });

  it('finds packages whose tags are cut between chunks', async () => {
    const bytes = Buffer.from(primary);
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(await scanPrimary(Readable.from(chunks), 'el/9/os/')).toEqual(expected);
  });

  it.each([
    ['gzip', (b: Buffer) => gzipSync(b)],
    ['zstd', (b: Buffer) => zstdCompressSync(b)],
    ['xz', (b: Buffer) => execFileSync('xz', ['-c'], { input: b })],
    ['plain', (b: Buffer) => b],
  ])('rewrites a %s primary.xml to the same bytes with package hints', async (_n, compress) => {
    const body = compress(Buffer.from(primary));
    const path = `el/9/os/repodata/${h1}-primary.xml.zst`;
    const out = await rpmFormat.indexHandler?.(path, undefined)?.rewrite({
      remote: makeRemote('rpm', { package: 'rpm' }),
      path,
      body,
      proxyBase: 'http://proxy/api/v1/remote/rpm',
    });
    expect(out?.body.equals(body)).toBe(true);
    expect(out?.hints).toEqual(expected);
  });

  it('has no handler for other metadata', () => {
    expect(rpmFormat.indexHandler?.(`repodata/${h1}-filelists.xml.gz`, undefined)).toBe(undefined);
    expect(rpmFormat.indexHandler?.('Packages/hello.rpm', undefined)).toBe(undefined);
  });
});
