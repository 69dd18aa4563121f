import { describe, expect, it } from 'vitest';
import { collectCelRules, isTransitionRule, type Kind, kinds, readCrds } from './crds.ts';
import {
  checkCrossFieldRules,
  checkTransitionRules,
  specRules,
  transitionRules,
} from './cross-field-rules.ts';
import { specValidator } from './schemas.ts';

const crds = readCrds();
const celRules = kinds.flatMap((kind) =>
  collectCelRules(crds.get(kind)!.schema).map((r) => ({ kind, ...r })),
);

describe('every CEL rule has a TypeScript counterpart', () => {
  it.each(celRules.map((r) => [r.kind, r.id, r] as const))('%s %s', (kind, id, r) => {
    const table = isTransitionRule(r.rule) ? transitionRules : specRules;
    expect(Object.keys(table[kind]), `${kind} ${id}`).toContain(id);
  });

  it('and every counterpart has a CEL rule', () => {
    const ids = new Set(celRules.map((r) => `${r.kind}/${r.id}`));
    const ts = kinds.flatMap((k) =>
      [...Object.keys(specRules[k]), ...Object.keys(transitionRules[k])].map((id) => `${k}/${id}`),
    );
    expect(ts.filter((id) => !ids.has(id))).toEqual([]);
  });
});

/** Apply CRD defaults like the API server does before CEL runs. */
function defaulted(kind: Kind, spec: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(spec);
  expect(specValidator().validateSpec(kind, copy)).toEqual([]);
  return copy;
}

const base = { package: 'generic', baseUrl: 'https://files.example.com' };

// [rule id, a spec that violates it, a spec that satisfies it]
const remoteCases: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['remote-needs-base-url', { package: 'generic' }, base],
  ['local-has-no-base-url', { ...base, type: 'local' }, { package: 'generic', type: 'local' }],
  [
    'mirror-of-docker-remote',
    { ...base, mirrorOf: ['docker.io'] },
    { ...base, package: 'docker', mirrorOf: ['docker.io'] },
  ],
  [
    'mirror-of-docker-remote',
    { package: 'docker', type: 'local', mirrorOf: ['docker.io'] },
    { ...base, mirrorOf: [] },
  ],
  [
    'quarantine-remote-only',
    { package: 'generic', type: 'local', quarantine: { days: 3 } },
    { ...base, quarantine: { days: 3 } },
  ],
  [
    'quarantine-exempt-needs-days',
    { ...base, quarantine: { days: 0, exemptPatterns: ['x'] } },
    { ...base, quarantine: { days: 1, exemptPatterns: ['x'] } },
  ],
  [
    'auth-remote-only',
    { package: 'generic', type: 'local', auth: { secretRef: { name: 's' } } },
    { ...base, auth: { secretRef: { name: 's' } } },
  ],
  [
    'pypi-index-url-pypi-only',
    { ...base, options: { pypiIndexUrl: 'https://i.example.com/simple' } },
    { ...base, package: 'pypi', options: { pypiIndexUrl: 'https://i.example.com/simple' } },
  ],
  [
    'checksum-sidecar-generic-only',
    { ...base, package: 'helm', options: { checksumSidecar: true } },
    { ...base, options: { checksumSidecar: true } },
  ],
  [
    'token-realm-hosts-docker-only',
    { ...base, options: { tokenRealmHosts: ['auth.example.com'] } },
    { ...base, package: 'docker', options: { tokenRealmHosts: ['auth.example.com'] } },
  ],
];

describe('Remote cross-field rules', () => {
  it.each(remoteCases)('%s: flags the violation and passes the fix', (id, bad, good) => {
    const issues = checkCrossFieldRules('Remote', defaulted('Remote', bad));
    expect(issues.map((i) => i.rule)).toContain(`cel:${id}`);
    expect(issues.find((i) => i.rule === `cel:${id}`)?.path).toMatch(/^\/spec\//);
    expect(checkCrossFieldRules('Remote', defaulted('Remote', good))).toEqual([]);
  });

  it('covers every Remote rule with a case', () => {
    expect(new Set(remoteCases.map(([id]) => id))).toEqual(new Set(Object.keys(specRules.Remote)));
  });

  it('takes the message from the CRD', () => {
    const [issue] = checkCrossFieldRules('Remote', defaulted('Remote', { package: 'generic' }));
    expect(issue).toEqual({
      rule: 'cel:remote-needs-base-url',
      path: '/spec/baseUrl',
      message: 'baseUrl is required when type is remote',
    });
  });
});

describe('Package transition rules', () => {
  it.each([
    ['package-project-immutable', { project: 'a' }, { project: 'b' }],
    ['package-name-immutable', { project: 'a', name: 'x' }, { project: 'a', name: 'y' }],
    ['package-name-immutable', { project: 'a' }, { project: 'a', name: 'y' }],
  ])('%s', (id, old, next) => {
    expect(checkTransitionRules('Package', next, old).map((i) => i.rule)).toEqual([`cel:${id}`]);
    expect(checkTransitionRules('Package', old, old)).toEqual([]);
  });
});
