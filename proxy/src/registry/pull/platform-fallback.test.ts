import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { needsPlatformFallback, platformDigest, readManifest } from './platform-fallback.ts';

const index = 'application/vnd.oci.image.index.v1+json';
const list = 'application/vnd.docker.distribution.manifest.list.v2+json';
const v2 = 'application/vnd.docker.distribution.manifest.v2+json';
const oci = 'application/vnd.oci.image.manifest.v1+json';

describe('needsPlatformFallback (pull manifests, content negotiation)', () => {
  it('falls back only for an index the Accept header does not take', () => {
    expect(needsPlatformFallback(index, v2)).toBe(true);
    expect(needsPlatformFallback(list, `${oci}, ${v2};q=0.5`)).toBe(true);
    expect(needsPlatformFallback(index, `${v2}, ${list}`)).toBe(false);
    expect(needsPlatformFallback(list, `${v2}, ${index.toUpperCase()}`)).toBe(false);
    expect(needsPlatformFallback(index, `${v2}, */*;q=0.1`)).toBe(false);
    expect(needsPlatformFallback(index, '')).toBe(false);
    expect(needsPlatformFallback(oci, v2)).toBe(false);
    expect(needsPlatformFallback(undefined, v2)).toBe(false);
  });
});

describe('platformDigest', () => {
  const entry = (os: string, architecture: string, digest: string) => ({
    digest,
    platform: { os, architecture },
  });

  it('picks the first linux/amd64 entry', () => {
    const body = {
      manifests: [entry('linux', 'arm64', 'a'), entry('windows', 'amd64', 'w'), entry('linux', 'amd64', 'b')],
    };
    expect(platformDigest(Buffer.from(JSON.stringify(body)), 'tag x')).toBe('b');
  });

  it('answers MANIFEST_UNKNOWN, saying why, without one', () => {
    const body = { manifests: [entry('linux', 'arm64', 'a')] };
    expect(() => platformDigest(Buffer.from(JSON.stringify(body)), 'tag x')).toThrow(
      /tag x .*no linux\/amd64 manifest/,
    );
    expect(() => platformDigest(Buffer.from('not json'), 'tag x')).toThrow(/not JSON/);
  });
});

describe('readManifest', () => {
  const object = (bytes: Buffer) => ({
    bytes,
    size: bytes.length,
    contentType: index,
    headers: {},
    countServed() {},
  });

  it('returns the bytes within the limit and refuses more', async () => {
    expect((await readManifest(object(Buffer.from('abc')), 3)).toString()).toBe('abc');
    await expect(readManifest(object(Buffer.from('abcd')), 3)).rejects.toThrow(/larger than 3 bytes/);
  });

  it('reads a streaming body whole, and stops and destroys it past the limit', async () => {
    const streaming = (parts: string[]) => ({
      body: Readable.from(parts.map((p) => Buffer.from(p))),
      contentType: index,
      headers: {},
      countServed() {},
    });
    expect((await readManifest(streaming(['ab', 'cd']), 4)).toString()).toBe('abcd');
    const big = streaming(['ab', 'cd', 'ef']);
    await expect(readManifest(big, 3)).rejects.toThrow(/larger than 3 bytes/);
    expect(big.body.destroyed).toBe(true);
  });
});
