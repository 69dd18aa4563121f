import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ArtifactSource } from './extractor.ts';
import { defaultExtractors, extractMetadata } from './index.ts';
import { bufferSource } from './source.ts';
import { tar, tarHeader, zip } from './test-archives.ts';

const registry = defaultExtractors();

async function gzipStream(parts: Iterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of Readable.from(parts).pipe(createGzip({ level: 1 }))) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function* zeros(total: number): Generator<Buffer> {
  const block = Buffer.alloc(1024 * 1024);
  for (let left = total; left > 0; left -= block.length)
    yield block.subarray(0, Math.min(left, block.length));
}

describe('hostile archives never fail or hang', () => {
  it('stops a gzip bomb declared as npm at the decompression limit', async () => {
    const bomb = await gzipStream([
      tarHeader({ path: 'package/huge.bin', size: 1 << 30 }),
      ...zeros(64 << 20),
    ]);
    const started = Date.now();
    const md = await extractMetadata(bufferSource(bomb, 'evil-1.0.0.tgz'), {
      registry,
      declaredFormat: 'npm',
      limits: { maxInflateBytes: 8 << 20 },
    });
    expect(md).toEqual({ format: 'npm', error: expect.stringMatching(/decompression limit exceeded/) });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('lets an undeclared .tgz bomb fall back to filename metadata after a bounded probe', async () => {
    const bomb = await gzipStream([tarHeader({ path: 'x/huge.bin', size: 1 << 30 }), ...zeros(64 << 20)]);
    const md = await extractMetadata(bufferSource(bomb, 'data-2.0.tgz'), {
      registry,
      limits: { maxInflateBytes: 48 << 20 },
    });
    expect(md).toEqual({ format: 'tarball', package_name: 'data', version: '2.0' });
  });

  it('stops a tar with a huge entry count at the entry limit', async () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({ path: `package/f${i}`, body: 'x' }));
    const md = await extractMetadata(bufferSource(gzipSync(tar(entries)), 'many.tgz'), {
      registry,
      declaredFormat: 'npm',
      limits: { maxEntries: 1000 },
    });
    expect(md).toEqual({ format: 'npm', error: expect.stringMatching(/entry limit exceeded/) });
  });

  it('ignores members whose paths climb out or are absolute', async () => {
    const evil = JSON.stringify({ name: 'evil', version: '6.6.6' });
    const archive = gzipSync(
      tar([
        { path: '../package.json', body: evil },
        { path: '/package/package.json', body: evil },
        { path: 'package/../../package.json', body: evil },
      ]),
    );
    const md = await extractMetadata(bufferSource(archive, 'trick-1.0.tgz'), { registry });
    expect(md).toEqual({ format: 'tarball', package_name: 'trick', version: '1.0' });
  });

  it('refuses a zip member that inflates past its declared size (zip bomb)', async () => {
    const archive = zip([
      { path: 'META-INF/MANIFEST.MF', body: Buffer.alloc(50 << 20, 0x41), declaredSize: 100 },
    ]);
    const md = await extractMetadata(bufferSource(archive, 'bomb.jar'), { registry });
    expect(md).toEqual({ format: 'jar', error: expect.stringMatching(/MANIFEST\.MF/) });
  });

  it('refuses to read a zip member declared larger than the file limit', async () => {
    const archive = zip([
      { path: 'demo-1.0.dist-info/METADATA', body: 'Name: x\n', declaredSize: 0xfffffff0 },
    ]);
    const md = await extractMetadata(bufferSource(archive, 'demo-1.0-py3-none-any.whl'), { registry });
    expect(md).toEqual({ format: 'wheel', error: expect.stringMatching(/too large/) });
  });

  it('reports a zip bomb by its declared size without inflating anything', async () => {
    const archive = zip([{ path: 'zeros.bin', body: Buffer.alloc(1 << 20), declaredSize: 0xfffffff0 }]);
    const md = await extractMetadata(bufferSource(archive, 'bomb.zip'), { registry });
    expect(md).toMatchObject({ format: 'zip', file_count: 1, uncompressed_size: 0xfffffff0 });
  });

  it('stops a zip central directory with too many records at the entry limit', async () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({ path: `f${i}`, body: '', store: true }));
    const md = await extractMetadata(bufferSource(zip(entries), 'many.zip'), {
      registry,
      limits: { maxEntries: 1000 },
    });
    expect(md).toEqual({ format: 'zip', error: expect.stringMatching(/entry limit exceeded/) });
  });

  it.each([
    ['a zip cut before its directory', zip([{ path: 'a', body: 'a' }]).subarray(0, 40), 'cut.zip', 'zip'],
    ['a tarball with a bad header checksum', gzipSync(Buffer.alloc(1024, 0x31)), 'bad-1.0.tar.gz', 'tarball'],
    [
      'a tarball that is not gzip or tar',
      Buffer.from('plain text, not a tarball'),
      'x-1.0.tar.gz',
      'tarball',
    ],
    [
      'an rpm lead with no header',
      Buffer.concat([Buffer.from([0xed, 0xab, 0xee, 0xdb]), Buffer.alloc(200)]),
      'x.rpm',
      'rpm',
    ],
    [
      'a truncated gzip stream',
      gzipSync(tar([{ path: 'package/package.json', body: '{}' }])).subarray(0, 30),
      'x.tgz',
      'npm',
    ],
    [
      'a .deb whose ar header is garbage',
      Buffer.concat([Buffer.from('!<arch>\n'), Buffer.alloc(120, 0x41)]),
      'x.deb',
      'deb',
    ],
  ])('reports %s as an error', async (_name, bytes, filename, format) => {
    const md = await extractMetadata(bufferSource(bytes, filename), { registry });
    expect(md).toEqual({ format, error: expect.any(String) });
  });

  it('rejects an rpm header that claims a billion tags', async () => {
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x8eade801, 0);
    header.writeUInt32BE(1_000_000_000, 8);
    const rpm = Buffer.concat([Buffer.from([0xed, 0xab, 0xee, 0xdb]), Buffer.alloc(92), header]);
    const md = await extractMetadata(bufferSource(rpm, 'x.rpm'), { registry });
    expect(md).toEqual({ format: 'rpm', error: expect.stringMatching(/too many tags/) });
  });

  it('gives up on a source that never answers when the time budget ends', async () => {
    const head = gzipSync(tar([{ path: 'package/a', body: 'a' }]));
    const stuck: ArtifactSource = {
      size: 10_000,
      filename: 'slow.tgz',
      read: async (start, length) => (start === 0 ? head.subarray(0, length) : new Promise<Buffer>(() => {})),
      open: () => new Promise(() => {}),
    };
    const started = Date.now();
    const md = await extractMetadata(stuck, { registry, declaredFormat: 'npm', limits: { timeoutMs: 200 } });
    expect(md).toEqual({ format: 'npm', error: expect.stringMatching(/time limit exceeded/) });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('returns {} for bytes no format claims', async () => {
    expect(await extractMetadata(bufferSource(Buffer.from('hello'), 'notes.txt'), { registry })).toEqual({});
  });

  it('clamps oversized strings and lists in extracted metadata', async () => {
    const pkg = { name: 'big', version: '1.0.0', description: 'd'.repeat(10_000) };
    const archive = gzipSync(tar([{ path: 'package/package.json', body: JSON.stringify(pkg) }]));
    const md = await extractMetadata(bufferSource(archive, 'big-1.0.0.tgz'), { registry });
    expect(md.format).toBe('npm');
    expect((md.description as string).length).toBeLessThanOrEqual(1025);
  });

  it('rejects a pax header larger than the extended-header limit', async () => {
    const archive = gzipSync(tar([{ path: 'PaxHeader', type: 'x', body: Buffer.alloc(100_000, 0x41) }]));
    const md = await extractMetadata(bufferSource(archive, 'pax.tgz'), { registry, declaredFormat: 'npm' });
    expect(md).toEqual({ format: 'npm', error: expect.stringMatching(/extended header/) });
  });
});
