import { describe, expect, it } from 'vitest';
import { makeRemote } from '../../cache/testing.ts';
import { alpineFormat } from './index.ts';

describe('alpine format', () => {
  it.each([
    ['v3.20/main/x86_64/APKINDEX.tar.gz', 'mutable-builtin'],
    ['edge/testing/aarch64/APKINDEX.tar.gz', 'mutable-builtin'],
    ['APKINDEX.tar.gz', 'mutable-builtin'],
    ['v3.20/main/x86_64/busybox-1.36.1-r29.apk', undefined],
    ['v3.20/main/x86_64/OLD-APKINDEX.tar.gz', undefined],
  ])('classifies %s as %s', (path, cls) => {
    expect(alpineFormat.classify(path)).toBe(cls);
  });

  it('maps paths onto the base URL and claims no digest it cannot check', () => {
    const remote = makeRemote('alpine', { package: 'alpine', baseUrl: 'http://mirror.example/alpine' });
    expect(alpineFormat.upstreamUrl(remote, 'v3.20/main/x86_64/c++-1.0-r0.apk')).toBe(
      'http://mirror.example/alpine/v3.20/main/x86_64/c++-1.0-r0.apk',
    );
    expect(alpineFormat.indexHandler).toBeUndefined();
    expect(alpineFormat.digestFromPath).toBeUndefined();
    expect(alpineFormat.contentType?.('v3.20/main/x86_64/APKINDEX.tar.gz')).toBe('application/gzip');
  });
});
