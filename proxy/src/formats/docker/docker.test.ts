import { describe, expect, it } from 'vitest';
import { configOf } from '../../registry/test-config.ts';
import {
  canonicalRegistryHost,
  canonicalRepository,
  dockerCachePath,
  dockerFormat,
  isDockerHub,
  isRepositoryName,
  isTag,
  parseDigest,
  upstreamManifestAccept,
} from './index.ts';

const hex = 'a'.repeat(64);
const cfg = configOf({
  hub: { type: 'remote', package: 'docker', baseUrl: 'https://registry-1.docker.io' },
  mirror: {
    type: 'remote',
    package: 'docker',
    baseUrl: 'https://mirror.example.com/v2/',
    mirrorOf: ['docker.io'],
  },
  ghcr: { type: 'remote', package: 'docker', baseUrl: 'https://ghcr.io' },
});
const remote = (n: string) => cfg.remotes.get(n)!;

describe('docker format', () => {
  it.each([
    [`team/app/blobs/sha256:${hex}`, 'immutable-builtin'],
    [`team/app/manifests/sha256:${hex}`, 'immutable-builtin'],
    [`team/app/manifests/sha512:${'b'.repeat(128)}`, 'immutable-builtin'],
    ['team/app/manifests/latest', 'mutable-builtin'],
    ['team/app/tags/list', 'mutable-builtin'],
    ['team/app/blobs/latest', undefined],
    ['something/else', undefined],
  ])('classifies %s as %s', (path, expected) => {
    expect(dockerFormat.classify(path)).toBe(expected);
  });

  it('names the digest of digest-addressed paths, and none for tags', () => {
    expect(dockerFormat.digestFromPath!(`a/blobs/sha256:${hex}`)).toEqual({ algorithm: 'sha256', hex });
    expect(dockerFormat.digestFromPath!(`a/manifests/sha256:${hex}`)).toEqual({ algorithm: 'sha256', hex });
    expect(dockerFormat.digestFromPath!('a/manifests/v1')).toBeUndefined();
    expect(dockerFormat.digestFromPath!('a/tags/list')).toBeUndefined();
  });

  it('builds upstream URLs under /v2/, whether or not baseUrl ends in /v2', () => {
    expect(dockerFormat.upstreamUrl(remote('ghcr'), 'owner/app/manifests/v1')).toBe(
      'https://ghcr.io/v2/owner/app/manifests/v1',
    );
    expect(dockerFormat.upstreamUrl(remote('mirror'), `library/x/blobs/sha256:${hex}`)).toBe(
      `https://mirror.example.com/v2/library/x/blobs/sha256:${hex}`,
    );
  });

  it('cache paths round-trip through classification', () => {
    expect(dockerCachePath({ kind: 'tags', repository: 'a/b' })).toBe('a/b/tags/list');
    expect(dockerCachePath({ kind: 'manifest', repository: 'a', reference: 'v1' })).toBe('a/manifests/v1');
  });

  it('asks upstreams for every manifest type it can serve', () => {
    for (const t of ['oci.image.index', 'oci.image.manifest', 'manifest.list.v2', 'manifest.v2']) {
      expect(upstreamManifestAccept).toContain(t);
    }
  });
});

describe("Docker Hub's library/ rule", () => {
  it('applies to Docker Hub remotes (by baseUrl or mirrorOf) and single-segment names only', () => {
    expect(isDockerHub(remote('hub'))).toBe(true);
    expect(isDockerHub(remote('mirror'))).toBe(true);
    expect(isDockerHub(remote('ghcr'))).toBe(false);
    expect(canonicalRepository(remote('hub'), 'nginx')).toBe('library/nginx');
    expect(canonicalRepository(remote('hub'), 'bitnami/nginx')).toBe('bitnami/nginx');
    expect(canonicalRepository(remote('ghcr'), 'nginx')).toBe('nginx');
  });

  it('maps every Docker Hub alias to docker.io', () => {
    for (const h of ['docker.io', 'index.docker.io', 'Registry-1.Docker.io'])
      expect(canonicalRegistryHost(h)).toBe('docker.io');
    expect(canonicalRegistryHost('ghcr.io')).toBe('ghcr.io');
  });
});

describe('names, tags, digests (distribution spec grammar)', () => {
  it.each([
    ['library/nginx', true],
    ['a', true],
    ['a.b_c__d-e--f/g', true],
    ['UPPER', false],
    ['a//b', false],
    ['-a', false],
    ['a_', false],
    ['../etc', false],
    [`${'a'.repeat(256)}`, false],
  ])('name %s → %s', (name, ok) => expect(isRepositoryName(name)).toBe(ok));

  it.each([
    ['latest', true],
    ['v1.2.3-rc_1', true],
    ['_x', true],
    ['.x', false],
    ['a'.repeat(129), false],
  ])('tag %s → %s', (tag, ok) => expect(isTag(tag)).toBe(ok));

  it('parses sha256/sha512 digests and refuses malformed ones', () => {
    expect(parseDigest(`sha256:${hex}`)).toEqual({ algorithm: 'sha256', hex });
    expect(parseDigest(`sha256:${hex.toUpperCase()}`)).toBeUndefined();
    expect(parseDigest('sha256:abc')).toBeUndefined();
    expect(parseDigest(`md5:${hex}`)).toBeUndefined();
  });
});
