import { describe, expect, it } from 'vitest';
import { OciError } from './errors.ts';
import { parseV2Path, resolveTarget } from './route.ts';
import { configOf } from './test-config.ts';

const d = `sha256:${'a'.repeat(64)}`;

describe('parseV2Path: names have any number of segments, so paths are read from the right', () => {
  it.each([
    ['', { kind: 'base' }],
    ['_catalog', { kind: 'catalog' }],
    ['a/b/c/manifests/latest', { kind: 'manifest', name: 'a/b/c', reference: 'latest' }],
    [`a/manifests/manifests/${d}`, { kind: 'manifest', name: 'a/manifests', reference: d }],
    [`a/b/blobs/${d}`, { kind: 'blob', name: 'a/b', digest: d }],
    ['a/b/blobs/uploads/', { kind: 'upload-start', name: 'a/b' }],
    ['a/b/blobs/uploads', { kind: 'upload-start', name: 'a/b' }],
    [
      'a/blobs/uploads/123e4567-e89b-12d3-a456-426614174000',
      { kind: 'upload', name: 'a', id: '123e4567-e89b-12d3-a456-426614174000' },
    ],
    ['blobs/blobs/uploads/x', { kind: 'upload', name: 'blobs', id: 'x' }],
    ['a/tags/list', { kind: 'tags', name: 'a' }],
    [`a/referrers/${d}`, { kind: 'referrers', name: 'a', digest: d }],
    [`a/manifests/sha256%3A${'a'.repeat(64)}`, { kind: 'manifest', name: 'a', reference: d }],
    ['manifests/latest', undefined],
    ['a/tags', undefined],
    ['a/unknown/x', undefined],
    ['a/%zz/manifests/x', undefined],
  ])('%s', (raw, expected) => {
    expect(parseV2Path(raw)).toEqual(expected);
  });
});

describe('resolveTarget: remote mode, containerd mirror mode, and the ambiguity rule', () => {
  const cfg = configOf({
    dockerhub: {
      type: 'remote',
      package: 'docker',
      baseUrl: 'https://registry-1.docker.io',
      mirrorOf: ['docker.io'],
    },
    ghcr: { type: 'remote', package: 'docker', baseUrl: 'https://ghcr.io', mirrorOf: ['ghcr.io'] },
    quay: { type: 'remote', package: 'docker', baseUrl: 'https://quay.io', mirrorOf: ['quay.io:443'] },
    hosted: { type: 'local', package: 'docker' },
    files: { type: 'remote', package: 'generic', baseUrl: 'https://files.example.com' },
  });
  const resolve = (name: string, ns?: string) => {
    const t = resolveTarget(cfg, name, ns);
    return { remote: t.remote.name, repository: t.repository, mode: t.mode };
  };

  it('routes /v2/{remote}/{name} to that docker remote, applying the library/ rule', () => {
    expect(resolve('dockerhub/nginx')).toEqual({
      remote: 'dockerhub',
      repository: 'library/nginx',
      mode: 'remote',
    });
    expect(resolve('ghcr/owner/app')).toEqual({ remote: 'ghcr', repository: 'owner/app', mode: 'remote' });
    expect(resolve('hosted/team/app')).toEqual({ remote: 'hosted', repository: 'team/app', mode: 'remote' });
  });

  it('routes containerd mirror requests by ns through mirrorOf, mapping Docker Hub aliases to docker.io', () => {
    expect(resolve('library/nginx', 'docker.io')).toEqual({
      remote: 'dockerhub',
      repository: 'library/nginx',
      mode: 'mirror',
    });
    expect(resolve('nginx', 'registry-1.docker.io')).toEqual({
      remote: 'dockerhub',
      repository: 'library/nginx',
      mode: 'mirror',
    });
    expect(resolve('owner/app', 'ghcr.io')).toEqual({
      remote: 'ghcr',
      repository: 'owner/app',
      mode: 'mirror',
    });
    expect(resolve('org/app', 'quay.io:443').remote).toBe('quay');
  });

  it('without ns, mirror mode uses the docker.io mirror (containerd and Docker default to docker.io)', () => {
    expect(resolve('bitnami/redis')).toEqual({
      remote: 'dockerhub',
      repository: 'bitnami/redis',
      mode: 'mirror',
    });
    expect(resolve('alpine')).toEqual({ remote: 'dockerhub', repository: 'library/alpine', mode: 'mirror' });
  });

  it('a first segment naming a docker remote wins even with ns (RKE2/k3s rewrite rules)', () => {
    expect(resolve('dockerhub/library/nginx', 'docker.io')).toEqual({
      remote: 'dockerhub',
      repository: 'library/nginx',
      mode: 'remote',
    });
  });

  it('a first segment naming a non-docker remote is just part of the image name', () => {
    expect(resolve('files/app', 'docker.io')).toEqual({
      remote: 'dockerhub',
      repository: 'files/app',
      mode: 'mirror',
    });
  });

  it('ns is a key into a closed list: unknown or malformed hosts are NAME_UNKNOWN, never dialed', () => {
    for (const ns of ['evil.example.com', '169.254.169.254', 'http://x', 'a b']) {
      expect(() => resolveTarget(cfg, 'x/y', ns)).toThrow(OciError);
      try {
        resolveTarget(cfg, 'x/y', ns);
      } catch (e) {
        expect((e as OciError).code).toBe('NAME_UNKNOWN');
      }
    }
  });

  it('rejects names outside the spec grammar with NAME_INVALID', () => {
    for (const name of ['Upper/case', 'a//b', 'dockerhub/../etc', '-x']) {
      expect(() => resolveTarget(cfg, name, undefined)).toThrow(
        expect.objectContaining({ code: 'NAME_INVALID' }),
      );
    }
  });
});
