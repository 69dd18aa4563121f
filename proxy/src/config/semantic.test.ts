import { describe, expect, it } from 'vitest';
import { buildConfig, type InputDocument, normalizeDocuments } from './normalize.ts';
import { checkVirtualMembers, findMirrorConflicts } from './semantic.ts';
import { ConfigError, type ConfigIssue } from './types.ts';

const apiVersion = 'orchard.dev/v1alpha1';
let n = 0;
const doc = (kind: string, name: string, spec: Record<string, unknown>): InputDocument => ({
  file: `${kind}/${name}`,
  index: n++,
  object: { apiVersion, kind, metadata: { name }, spec },
});
const remote = (name: string, spec: Record<string, unknown> = {}) =>
  doc('Remote', name, { package: 'helm', baseUrl: `https://${name}.example.com`, ...spec });
const virtual = (name: string, members: string[], pkg = 'helm') =>
  doc('VirtualRepository', name, { package: pkg, members });
const project = (name: string) => doc('Project', name, {});
const pkg = (name: string, spec: Record<string, unknown>) => doc('Package', name, spec);

function issuesOf(docs: InputDocument[]): Pick<ConfigIssue, 'file' | 'path' | 'rule'>[] {
  try {
    normalizeDocuments(docs);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map(({ file, path, rule }) => ({ file, path, rule }));
  }
  return [];
}

describe('semantic rules', () => {
  it.each<[string, InputDocument[], Pick<ConfigIssue, 'file' | 'path' | 'rule'>[]]>([
    [
      'valid config',
      [remote('a'), remote('b'), virtual('v', ['a', 'b']), project('p'), pkg('k', { project: 'p' })],
      [],
    ],
    [
      'virtual member missing',
      [remote('a'), virtual('v', ['a', 'zz'])],
      [{ file: 'VirtualRepository/v', path: '/spec/members/1', rule: 'virtual-member-exists' }],
    ],
    [
      'virtual member of another package type',
      [remote('a', { package: 'npm' }), virtual('v', ['a'])],
      [{ file: 'VirtualRepository/v', path: '/spec/members/0', rule: 'virtual-member-package' }],
    ],
    [
      'virtual member that is a virtual',
      [remote('a'), virtual('v', ['a']), virtual('w', ['v'])],
      [{ file: 'VirtualRepository/w', path: '/spec/members/0', rule: 'virtual-member-is-remote' }],
    ],
    [
      'virtual member that is invalid',
      [remote('a', { package: 'bogus' }), virtual('v', ['a'])],
      [
        { file: 'Remote/a', path: '/spec/package', rule: 'schema:enum' },
        { file: 'VirtualRepository/v', path: '/spec/members/0', rule: 'virtual-member-valid' },
      ],
    ],
    [
      'package project missing',
      [pkg('k', { project: 'nope' })],
      [{ file: 'Package/k', path: '/spec/project', rule: 'package-project-exists' }],
    ],
    [
      'two packages with one name in a project',
      [project('p'), pkg('k1', { project: 'p', name: 'k' }), pkg('k', { project: 'p' })],
      [
        { file: 'Package/k1', path: '/spec/name', rule: 'package-name-unique' },
        { file: 'Package/k', path: '/spec/name', rule: 'package-name-unique' },
      ],
    ],
    [
      'pattern that does not compile',
      [remote('a', { immutablePatterns: ['ok', '(unclosed'] })],
      [{ file: 'Remote/a', path: '/spec/immutablePatterns/1', rule: 'pattern-compiles' }],
    ],
    [
      'mirrorOf host claimed twice',
      [
        remote('d1', { package: 'docker', mirrorOf: ['docker.io'] }),
        remote('d2', { package: 'docker', mirrorOf: ['ghcr.io', 'docker.io'] }),
      ],
      [
        { file: 'Remote/d1', path: '/spec/mirrorOf', rule: 'mirror-of-unique' },
        { file: 'Remote/d2', path: '/spec/mirrorOf', rule: 'mirror-of-unique' },
      ],
    ],
    [
      'referenced Secret missing',
      [remote('a', { auth: { secretRef: { name: 's', namespace: 'ns' } } })],
      [{ file: 'Remote/a', path: '/spec/auth/secretRef', rule: 'secret-exists' }],
    ],
    [
      'Remote and VirtualRepository with one name',
      [remote('x'), virtual('x', ['x'])],
      [
        { file: 'Remote/x', path: '/metadata/name', rule: 'repository-name-unique' },
        { file: 'VirtualRepository/x', path: '/metadata/name', rule: 'repository-name-unique' },
      ],
    ],
  ])('%s', (_name, docs, expected) => {
    expect(issuesOf(docs)).toEqual(expected);
  });

  it('accepts a Secret in any namespace when the reference has none, and resolves credentials', () => {
    const secret: InputDocument = {
      file: 'Secret/ns/s',
      index: 0,
      object: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's', namespace: 'ns' },
        data: { token: btoa('t0k') },
      },
    };
    const cfg = normalizeDocuments([remote('a', { auth: { secretRef: { name: 's' } } }), secret]);
    expect(cfg.credentials('a')).toEqual({ token: 't0k' });
  });
});

describe('buildConfig (the operator keeps the valid resources)', () => {
  it('leaves out invalid resources and those depending on them, and says why', () => {
    const { config, rejected, documentIssues } = buildConfig([
      remote('good'),
      remote('bad', { baseUrl: 'ftp://nope' }),
      virtual('v-good', ['good']),
      virtual('v-bad', ['good', 'bad']),
      project('p'),
      pkg('k', { project: 'p' }),
      pkg('orphan', { project: 'q' }),
      { file: 'x', index: 0, object: { apiVersion, kind: 'Remote', metadata: {} } },
    ]);
    expect([...config.remotes.keys()]).toEqual(['good']);
    expect([...config.virtuals.keys()]).toEqual(['v-good']);
    expect([...config.packages.keys()]).toEqual(['k']);
    expect([...rejected.keys()].sort()).toEqual(['Package/orphan', 'Remote/bad', 'VirtualRepository/v-bad']);
    expect(rejected.get('Remote/bad')).toMatchObject([
      { rule: 'schema:pattern', path: '/spec/baseUrl', kind: 'Remote', name: 'bad' },
    ]);
    expect(documentIssues).toMatchObject([{ rule: 'name-required' }]);
  });
});

describe('pure rule functions', () => {
  it('findMirrorConflicts is case-insensitive and ignores a host listed twice by one remote', () => {
    const conflicts = findMirrorConflicts([
      { name: 'a', mirrorOf: ['Docker.io', 'docker.io'] },
      { name: 'b', mirrorOf: ['quay.io'] },
    ]);
    expect(conflicts.size).toBe(0);
    expect([
      ...findMirrorConflicts([
        { name: 'a', mirrorOf: ['Docker.io'] },
        { name: 'b', mirrorOf: ['docker.io'] },
      ]).keys(),
    ]).toEqual(['a', 'b']);
  });

  it('checkVirtualMembers reports every bad member', () => {
    const issues = checkVirtualMembers({ package: 'npm', members: ['a', 'b', 'c'] }, (m) =>
      m === 'a'
        ? { kind: 'Remote', package: 'npm' }
        : m === 'b'
          ? { kind: 'Remote', package: 'helm' }
          : undefined,
    );
    expect(issues.map((i) => i.path)).toEqual(['/spec/members/1', '/spec/members/2']);
  });
});
