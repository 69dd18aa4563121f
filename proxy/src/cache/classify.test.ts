import { describe, expect, it } from 'vitest';
import { genericFormat } from '../formats/generic/index.ts';
import type { BuiltinClass, Format } from '../formats/index.ts';
import { classifyPath, isQuarantineExempt } from './classify.ts';
import { makeRemote } from './testing.ts';

// A format with built-ins, standing in for helm/docker: index.yaml is mutable, digests immutable.
const builtins: Format = {
  ...genericFormat,
  name: 'test-builtins',
  classify(path: string): BuiltinClass | undefined {
    if (/index\.yaml$/.test(path)) return 'mutable-builtin';
    if (/sha256:[0-9a-f]{64}$/.test(path)) return 'immutable-builtin';
    return undefined;
  },
};

const githubArchive = makeRemote('github-archive', {
  immutablePatterns: ['.*/archive/refs/tags/.*\\.tar\\.gz$'],
  mutablePatterns: ['.*/archive/refs/heads/main\\.tar\\.gz$'],
});
const npm = makeRemote('npm', { immutablePatterns: ['\\.tgz$'], mutablePatterns: ['^(?!.*\\.tgz$).*'] });
const open = makeRemote('open');
const helm = makeRemote('helm', { immutablePatterns: ['\\.tgz$'] });

describe('classifyPath', () => {
  it.each([
    [
      'seed github-archive tag archive',
      githubArchive,
      genericFormat,
      'o/r/archive/refs/tags/v1.tar.gz',
      'immutable',
      false,
    ],
    [
      'seed github-archive branch archive',
      githubArchive,
      genericFormat,
      'o/r/archive/refs/heads/main.tar.gz',
      'mutable',
      false,
    ],
    [
      'seed github-archive unmatched path',
      githubArchive,
      genericFormat,
      'o/r/releases/x.zip',
      'forbidden',
      undefined,
    ],
    ['seed npm tarball', npm, genericFormat, 'lodash/-/lodash-4.17.21.tgz', 'immutable', false],
    ['seed npm packument (lookahead pattern)', npm, genericFormat, 'lodash', 'mutable', false],
    ['no immutable patterns allows all', open, genericFormat, 'anything/at/all.bin', 'immutable', false],
    ['built-in mutable allowed despite immutable patterns', helm, builtins, 'index.yaml', 'mutable', true],
    [
      'built-in immutable allowed despite immutable patterns',
      helm,
      builtins,
      `blobs/sha256:${'a'.repeat(64)}`,
      'immutable',
      true,
    ],
    ['user pattern under built-in rules', helm, builtins, 'vault-0.27.0.tgz', 'immutable', false],
    ['unmatched under built-in rules', helm, builtins, 'README.md', 'forbidden', undefined],
  ] as const)('%s', (_name, remote, format, path, kind, builtin) => {
    const got = classifyPath(remote, format, path);
    expect(got.kind).toBe(kind);
    if (got.kind !== 'forbidden') expect(got.builtin).toBe(builtin);
  });

  it("is not affected by a global RegExp's lastIndex", () => {
    const remote = { ...open, immutablePatterns: [/\.tgz$/g] };
    for (let i = 0; i < 3; i++) expect(classifyPath(remote, genericFormat, 'a.tgz').kind).toBe('immutable');
  });
});

describe('isQuarantineExempt', () => {
  const remote = makeRemote('q', { quarantine: { days: 3, exemptPatterns: ['^internal/'] } });
  it('exempts matching paths only', () => {
    expect(isQuarantineExempt(remote, 'internal/a.whl')).toBe(true);
    expect(isQuarantineExempt(remote, 'public/a.whl')).toBe(false);
    expect(isQuarantineExempt(open, 'internal/a.whl')).toBe(false);
  });
});
