/**
 * Checks on helm/orchard that need no rendering: Chart.yaml, the CRD copies,
 * values.yaml against the templates that read it and the docs that list it.
 * (`helm lint` cannot run here: no helm binary.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartDir, defaultValues, readYaml, repoRoot } from './lib/chart.ts';
import { lookup, missing, settablePaths, valuesReferences } from './lib/values-refs.ts';

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

describe('Chart.yaml', () => {
  const chart = readYaml(join(chartDir, 'Chart.yaml'));
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

  it('is a v2 application chart named after its directory, with SemVer versions', () => {
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('orchard');
    expect(chart.type).toBe('application');
    expect(chart.version).toMatch(SEMVER);
    expect(chart.description).toEqual(expect.any(String));
  });

  it('deploys the version of this repository by default (appVersion = package.json version)', () => {
    expect(chart.appVersion).toBe(pkg.version);
  });

  it('requires a Kubernetes version with CEL validation rules, which the CRDs use', () => {
    const crds = readdirSync(join(repoRoot, 'crds')).map((f) =>
      readFileSync(join(repoRoot, 'crds', f), 'utf8'),
    );
    expect(crds.some((c) => c.includes('x-kubernetes-validations'))).toBe(true);
    expect(chart.kubeVersion).toBe('>=1.25.0-0');
  });
});

describe('crds/', () => {
  it('holds byte-identical copies of the top-level crds/ and nothing else', () => {
    const top = readdirSync(join(repoRoot, 'crds')).sort();
    const copies = readdirSync(join(chartDir, 'crds')).sort();
    expect(copies).toEqual(top);
    for (const f of top) {
      const want = readFileSync(join(repoRoot, 'crds', f), 'utf8');
      const got = readFileSync(join(chartDir, 'crds', f), 'utf8');
      expect(got, `helm/orchard/crds/${f} differs from crds/${f}: cp crds/*.yaml helm/orchard/crds/`).toBe(
        want,
      );
    }
  });
});

describe('values.yaml', () => {
  const values = defaultValues();
  const refs = valuesReferences();
  const allRefs = new Set([...refs.values()].flatMap((s) => [...s]));

  it.each([...refs].filter(([, r]) => r.size > 0))('%s refers only to values that exist', (_file, paths) => {
    const absent = [...paths].filter((p) => lookup(values, p) === missing);
    expect(absent).toEqual([]);
  });

  it('has no value that no template reads', () => {
    const used = (path: string) => [...allRefs].some((r) => r === path || path.startsWith(`${r}.`));
    const unused = settablePaths(values, allRefs).filter((p) => !used(p));
    expect(unused).toEqual([]);
  });

  it('never holds a credential, only names of Secrets that do', () => {
    const keys = settablePaths(values, new Set()).map((p) => p.split('.').pop()!);
    expect(keys.filter((k) => /(password|token|secretAccessKey|accessKeyId|credentials?)$/i.test(k))).toEqual(
      [],
    );
  });

  it('is listed value by value in docs/helm.md', () => {
    const doc = readFileSync(join(repoRoot, 'docs/helm.md'), 'utf8');
    const undocumented = settablePaths(values, allRefs).filter((p) => !doc.includes(`| \`${p}\``));
    expect(undocumented).toEqual([]);
  });
});
