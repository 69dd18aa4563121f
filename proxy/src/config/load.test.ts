import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load.ts';
import { loadIssues, remoteYaml, samplesDir, tempConfig } from './test-helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
async function temp(files: Record<string, string>): Promise<string> {
  const t = await tempConfig(files);
  cleanups.push(t.cleanup);
  return t.dir;
}

const secret = (name: string, data: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\nstringData:\n${data}\n`;

describe('config/samples', () => {
  it('loads with one example of every kind and a Remote per package type', async () => {
    const cfg = await loadConfig(samplesDir);
    const packages = new Set([...cfg.remotes.values()].map((r) => r.package));
    expect([...packages].sort()).toEqual([
      'alpine',
      'deb',
      'docker',
      'generic',
      'helm',
      'npm',
      'pypi',
      'rpm',
    ]);
    expect(cfg.virtuals.get('helm-all')?.members).toEqual(['hashicorp-helm', 'helm-bitnami']);
    expect(cfg.projects.get('my-project')).toMatchObject({ isPublic: true, deletionPolicy: 'Retain' });
    expect(cfg.packages.get('my-project-releases')).toMatchObject({
      project: 'my-project',
      name: 'releases',
    });
    expect(cfg.mirrors.get('docker.io')).toBe('dockerhub');
    expect(cfg.remotes.get('ghcr')!.hasCredentials).toBe(true);
    expect(cfg.warnings).toEqual([]);
  });

  it('contains every seed example remote', async () => {
    const cfg = await loadConfig(samplesDir);
    for (const name of [
      'github',
      'github-archive',
      'alpine',
      'almalinux',
      'dockerhub',
      'ghcr',
      'pypi',
      'npm',
    ]) {
      expect(cfg.remotes.has(name), name).toBe(true);
    }
    expect(cfg.remotes.get('local-generic')?.type).toBe('local');
  });
});

describe('errors name file, document, line, JSON path and rule', () => {
  it('reports broken YAML with file and line', async () => {
    const dir = await temp({
      'a.yaml': remoteYaml('ok', 'package: generic\nbaseUrl: https://a.example.com'),
      'b.yaml': 'x: [1, 2\ny: 3\n',
    });
    const issues = await loadIssues(dir);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: join(dir, 'b.yaml'), document: 1, line: 2 });
    expect(issues[0].rule).toMatch(/^yaml:/);
  });

  it('reports a schema violation at its JSON path, document and line', async () => {
    const good = remoteYaml('a', 'package: generic\nbaseUrl: https://a.example.com');
    const bad = remoteYaml(
      'b',
      'package: gopher\nbaseUrl: https://b.example.com\ncache:\n  mutableTtl: "10"',
    );
    const dir = await temp({ 'r.yaml': `${good}---\n${bad}` });
    const issues = await loadIssues(dir);
    expect(issues.map((i) => [i.document, i.path, i.rule, i.line])).toEqual([
      [2, '/spec/package', 'schema:enum', 14],
      [2, '/spec/cache/mutableTtl', 'schema:type', 17],
    ]);
    expect(issues[0]).toMatchObject({ kind: 'Remote', name: 'b', file: join(dir, 'r.yaml') });
    expect(issues[0].message).toContain('"generic"');
  });

  it('reports a CEL rule violation with the CRD message', async () => {
    const dir = await temp({ 'r.yaml': remoteYaml('a', 'package: generic') });
    expect(await loadIssues(dir)).toMatchObject([
      {
        path: '/spec/baseUrl',
        rule: 'cel:remote-needs-base-url',
        message: 'baseUrl is required when type is remote',
      },
    ]);
  });

  it('rejects unknown fields, like kubectl strict validation', async () => {
    const dir = await temp({
      'r.yaml': remoteYaml('a', 'package: generic\nbaseUrl: https://a.example.com\nbaseURL: x'),
    });
    expect(await loadIssues(dir)).toMatchObject([
      { path: '/spec/baseURL', rule: 'schema:additionalProperties', line: 8 },
    ]);
  });

  it('rejects "\\." escapes in CR files (only seed files keep them)', async () => {
    const dir = await temp({
      'r.yaml': remoteYaml(
        'a',
        'package: npm\nbaseUrl: https://a.example.com\nimmutablePatterns: ["\\.tgz$"]',
      ),
    });
    expect((await loadIssues(dir)).map((i) => i.rule)).toEqual(['yaml:BAD_DQ_ESCAPE']);
  });

  it('rejects documents that are neither resources nor seed files, and bad names', async () => {
    const dir = await temp({
      'r.yaml':
        'just: a map\n---\napiVersion: orchard.dev/v1beta9\nkind: Remote\n---\n' +
        remoteYaml('../x', 'package: generic'),
    });
    expect((await loadIssues(dir)).map((i) => [i.document, i.rule])).toEqual([
      [1, 'document-kind'],
      [2, 'document-kind'],
      [3, 'name-format'],
    ]);
  });

  it('reports a missing path', async () => {
    expect(await loadIssues('/nonexistent/orchard')).toMatchObject([
      { rule: 'config-path', file: '/nonexistent/orchard' },
    ]);
  });
});

describe('directories', () => {
  it('loads *.yaml and *.yml in name order, later wins, and skips other files and dot entries', async () => {
    const dir = await temp({
      '10-a.yaml': remoteYaml('x', 'package: generic\nbaseUrl: https://first.example.com'),
      '20-b.yml': remoteYaml('x', 'package: generic\nbaseUrl: https://second.example.com'),
      'notes.txt': 'not yaml',
      '.hidden.yaml': 'broken: [',
      '..data/c.yaml': 'broken: [',
    });
    const cfg = await loadConfig(dir);
    expect(cfg.remotes.get('x')!.baseUrl).toBe('https://second.example.com');
    expect(cfg.sources).toEqual([join(dir, '10-a.yaml'), join(dir, '20-b.yml')]);
    expect(cfg.warnings).toMatchObject([{ rule: 'name-overridden', file: join(dir, '20-b.yml') }]);
  });

  it('ignores foreign Kubernetes documents with a warning', async () => {
    const dir = await temp({
      'k.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n',
    });
    const cfg = await loadConfig(dir);
    expect(cfg.warnings).toMatchObject([{ rule: 'document-ignored' }]);
  });

  it('mixes CR files and seed files', async () => {
    const dir = await temp({
      'a.yaml': 'remotes:\n  h:\n    package: helm\n    base_url: https://h.example.com\n',
      'b.yaml':
        'apiVersion: orchard.dev/v1alpha1\nkind: VirtualRepository\nmetadata: {name: all}\nspec: {package: helm, members: [h]}\n',
    });
    const cfg = await loadConfig(dir);
    expect(cfg.virtuals.get('all')!.members).toEqual(['h']);
  });
});

describe('credentials', () => {
  const withAuth = remoteYaml(
    'r',
    'package: docker\nbaseUrl: https://r.example.com\nauth:\n  secretRef: {name: creds}',
  );

  it('come from a v1 Secret (stringData over data) and never reach redacted()', async () => {
    const dir = await temp({
      'r.yaml': withAuth,
      's.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ns}\ndata:\n  username: ${Buffer.from('dXNlcg-ignored').toString('base64')}\n  token: ${Buffer.from('tok-SECRET-1').toString('base64')}\nstringData:\n  username: user-SECRET-2\n  password: pw-SECRET-3\n  header.X-Api-Key: hdr-SECRET-4\n`,
    });
    const cfg = await loadConfig(dir);
    expect(cfg.credentials('r')).toEqual({
      username: 'user-SECRET-2',
      password: 'pw-SECRET-3',
      token: 'tok-SECRET-1',
      headers: { 'X-Api-Key': 'hdr-SECRET-4' },
    });
    const serialized = [
      JSON.stringify(cfg.redacted()),
      JSON.stringify(cfg),
      JSON.stringify(cfg.credentials('r')),
      inspect(cfg.credentials('r')),
      inspect(cfg, { depth: 10 }),
    ].join('\n');
    expect(serialized).not.toMatch(/SECRET/);
    expect(JSON.stringify(cfg.redacted())).toContain('"hasCredentials":true');
  });

  it('fail when the referenced Secret is missing', async () => {
    const dir = await temp({ 'r.yaml': withAuth });
    expect(await loadIssues(dir)).toMatchObject([
      { rule: 'secret-exists', path: '/spec/auth/secretRef', line: 9 },
    ]);
  });

  it('fail when a reference without namespace matches Secrets in two namespaces', async () => {
    const two = (ns: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ${ns}}\nstringData: {token: t}\n`;
    const dir = await temp({ 'r.yaml': withAuth, 's.yaml': `${two('a')}---\n${two('b')}` });
    expect((await loadIssues(dir)).map((i) => i.rule)).toEqual(['secret-exists']);
  });

  it('resolve by namespace when the reference has one', async () => {
    const ns = remoteYaml(
      'r',
      'package: docker\nbaseUrl: https://r.example.com\nauth:\n  secretRef: {name: creds, namespace: b}',
    );
    const two = (n: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ${n}}\nstringData: {token: t-${n}}\n`;
    const dir = await temp({ 'r.yaml': ns, 's.yaml': `${two('a')}---\n${two('b')}` });
    expect((await loadConfig(dir)).credentials('r')).toEqual({ token: 't-b' });
  });

  it('an unreferenced secret value does not appear in errors', async () => {
    const dir = await temp({
      's.yaml': `${secret('x', '  password: pw-SECRET-9')}---\n${remoteYaml('r', 'package: nope')}`,
    });
    expect(JSON.stringify(await loadIssues(dir))).not.toContain('SECRET');
  });
});

describe('the result', () => {
  it('is deep-frozen and has read-only maps', async () => {
    const cfg = await loadConfig(samplesDir);
    const r = cfg.remotes.get('npm')!;
    expect(
      Object.isFrozen(cfg) &&
        Object.isFrozen(r) &&
        Object.isFrozen(r.cache) &&
        Object.isFrozen(r.immutablePatterns),
    ).toBe(true);
    expect(() => {
      (r.cache as { mutableTtl: number }).mutableTtl = 1;
    }).toThrow(TypeError);
    expect((cfg.remotes as unknown as { set?: unknown }).set).toBeUndefined();
    expect(r.immutablePatterns[0].test('x/-/x-1.0.0.tgz')).toBe(true);
  });

  it('has a digest that ignores file order and formatting but not content', async () => {
    const a = remoteYaml('a', 'package: generic\nbaseUrl: https://a.example.com');
    const b = remoteYaml('b', 'package: generic\nbaseUrl: https://b.example.com');
    const d1 = await temp({ '1.yaml': a, '2.yaml': b });
    const d2 = await temp({ '1.yaml': `# comment\n${b}`, '2.yaml': a });
    const d3 = await temp({ '1.yaml': a, '2.yaml': b.replace('b.example', 'c.example') });
    const [c1, c2, c3] = await Promise.all([loadConfig(d1), loadConfig(d2), loadConfig(d3)]);
    expect(c1.digest).toBe(c2.digest);
    expect(c1.digest).not.toBe(c3.digest);
  });

  it('fills every default', async () => {
    const dir = await temp({ 'r.yaml': remoteYaml('a', 'package: generic\nbaseUrl: https://a.example.com') });
    expect((await loadConfig(dir)).remotes.get('a')).toMatchObject({
      type: 'remote',
      description: '',
      checkMutableUpdates: false,
      cache: { immutableTtl: 0, mutableTtl: 3600, negativeTtl: 60 },
      staleOnError: ['network'],
      mirrorOf: [],
      options: {},
      hasCredentials: false,
      immutablePatterns: [],
    });
  });
});
