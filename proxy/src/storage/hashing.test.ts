import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidArgumentError } from './errors.ts';
import { EMPTY_SHA256, HashingStream, sha256Hex } from './hashing.ts';

function sink(): { stream: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  return {
    chunks,
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  };
}
const body = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('HashingStream', () => {
  it('passes bytes through and reports size and sha256', async () => {
    const h = new HashingStream();
    const out = sink();
    await pipeline(body('hello ', 'world'), h, out.stream);
    expect(Buffer.concat(out.chunks).toString()).toBe('hello world');
    expect(h.size).toBe(11);
    expect(h.sha256).toBe(sha256Hex('hello world'));
  });

  it('knows the digest of nothing', async () => {
    const h = new HashingStream({ expectedSha256: EMPTY_SHA256, expectedSize: 0 });
    await pipeline(body(), h, sink().stream);
    expect(h.sha256).toBe(EMPTY_SHA256);
  });

  it('fails with DigestMismatchError naming both digests', async () => {
    const h = new HashingStream({ expectedSha256: '0'.repeat(64), key: 'k', backend: 'b' });
    const err = await pipeline(body('x'), h, sink().stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(err).toMatchObject({ expected: '0'.repeat(64), actual: sha256Hex('x'), key: 'k', backend: 'b' });
  });

  it.each([
    ['longer', ['abc', 'def'], 4],
    ['shorter', ['abc'], 4],
  ])('fails with InvalidArgumentError when the body is %s than declared', async (_n, parts, expectedSize) => {
    const err = await pipeline(body(...parts), new HashingStream({ expectedSize }), sink().stream).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidArgumentError);
  });

  it('with holdBack, withholds the last chunk of a body that fails its check', async () => {
    const out = sink();
    const h = new HashingStream({ expectedSha256: '0'.repeat(64), holdBack: true });
    await expect(pipeline(body('first', 'last'), h, out.stream)).rejects.toBeInstanceOf(DigestMismatchError);
    expect(Buffer.concat(out.chunks).toString()).toBe('first');
  });

  it('with holdBack, delivers everything once the checks pass', async () => {
    const out = sink();
    const h = new HashingStream({ expectedSha256: sha256Hex('firstlast'), expectedSize: 9, holdBack: true });
    await pipeline(body('first', 'last'), h, out.stream);
    expect(Buffer.concat(out.chunks).toString()).toBe('firstlast');
  });

  it('refuses to report a digest before the end', () => {
    expect(() => new HashingStream().sha256).toThrow(/before the end/);
  });
});
