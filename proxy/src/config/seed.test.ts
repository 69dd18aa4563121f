import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load.ts';
import { seedPath } from './seed.ts';
import { loadIssues, tempConfig, testdata } from './test-helpers.ts';

const seedDir = join(testdata, 'seed');
const seedFiles = readdirSync(seedDir).filter((f) => f.endsWith('.yaml'));
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
async function temp(files: Record<string, string>): Promise<string> {
  const t = await tempConfig(files);
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('the seed remotes.yaml examples load unchanged', () => {
  it('has all 12 examples as fixtures', () => {
    expect(seedFiles.length + 1).toBe(12); // + config-dir/config.yaml
  });

  it.each(seedFiles)('%s', async (file) => {
    const cfg = await loadConfig(join(seedDir, file));
    expect(cfg.remotes.size + cfg.virtuals.size).toBeGreaterThan(0);
  });

  it('main file + config_dir (relative to the main file) loads the directory', async () => {
    const cfg = await loadConfig(join(seedDir, 'config-dir', 'config.yaml'));
    expect([...cfg.remotes.keys()]).toEqual(['github', 'github-archive', 'hashicorp-helm']);
    expect(cfg.sources.map((s) => s.slice(seedDir.length).replace(/^\//, ''))).toEqual([
      'config-dir/config.yaml',
      'config-dir/conf.d/github.yaml',
      'config-dir/conf.d/helm.yaml',
    ]);
  });

  it('converts snake_case keys to the CR fields', async () => {
    const r = (await loadConfig(join(seedDir, '02-generic.yaml'))).remotes.get('github-archive')!;
    expect(r).toMatchObject({
      type: 'remote',
      package: 'generic',
      baseUrl: 'https://github.com',
      checkMutableUpdates: true,
      cache: { immutableTtl: 0, mutableTtl: 86400, negativeTtl: 60 },
      staleOnError: ['network'],
      immutablePatternSources: ['.*/archive/refs/tags/.*\\.tar\\.gz$'],
    });
    expect(r.immutablePatterns[0].test('o/r/archive/refs/tags/v1.tar.gz')).toBe(true);
    expect(r.mutablePatterns[0].test('o/r/archive/refs/heads/main.tar.gz')).toBe(true);
  });

  it('keeps the npm example\'s "\\." escapes verbatim (strict YAML rejects them) with a warning', async () => {
    const cfg = await loadConfig(join(seedDir, '07-npm.yaml'));
    const npm = cfg.remotes.get('npm')!;
    expect(npm.immutablePatternSources).toEqual(['\\.tgz$']);
    expect(npm.mutablePatternSources).toEqual(['^(?!.*\\.tgz$).*']);
    expect(npm.mutablePatterns[0].test('left-pad')).toBe(true);
    expect(npm.mutablePatterns[0].test('left-pad/-/left-pad-1.3.0.tgz')).toBe(false);
    expect(cfg.warnings.map((w) => [w.rule, w.line])).toEqual([
      ['yaml:BAD_DQ_ESCAPE', 8],
      ['yaml:BAD_DQ_ESCAPE', 10],
    ]);
  });

  it('turns inline username/password into credentials, not spec', async () => {
    const cfg = await loadConfig(join(seedDir, '05-docker.yaml'));
    expect(cfg.remotes.get('ghcr')).toMatchObject({
      hasCredentials: true,
      secretRef: { name: 'inline:ghcr' },
    });
    expect(cfg.credentials('ghcr')).toMatchObject({
      username: 'your-github-username',
      password: 'ghp_your_pat',
    });
    expect(cfg.remotes.get('dockerhub')!.hasCredentials).toBe(false);
    expect(cfg.credentials('dockerhub')).toBeUndefined();
  });

  it('maps quarantine_new + quarantine_days to quarantine.days', async () => {
    const r = (await loadConfig(join(seedDir, '11-quarantine.yaml'))).remotes.get('pypi')!;
    expect(r.quarantine).toMatchObject({ days: 3, exemptPatternSources: [] });
  });

  it('turns type: virtual into a VirtualRepository with ordered members', async () => {
    const cfg = await loadConfig(join(seedDir, '09-virtual.yaml'));
    expect(cfg.virtuals.get('helm-all')).toEqual({
      name: 'helm-all',
      package: 'helm',
      members: ['helm-hashicorp', 'helm-bitnami'],
      description: '',
    });
    expect(cfg.remotes.has('helm-all')).toBe(false);
  });

  it('loads a local remote without baseUrl', async () => {
    const r = (await loadConfig(join(seedDir, '10-local.yaml'))).remotes.get('local-generic')!;
    expect(r.type).toBe('local');
    expect(r.baseUrl).toBeUndefined();
  });
});

describe('seed files: errors use the seed key names', () => {
  it('reports a bad value at its snake_case path and line', async () => {
    const dir = await temp({
      'remotes.yaml':
        'remotes:\n  a:\n    base_url: https://a.example.com\n    package: generic\n    cache:\n      mutable_ttl: -1\n',
    });
    const [issue] = await loadIssues(dir);
    expect(issue).toMatchObject({ path: '/remotes/a/cache/mutable_ttl', line: 6, rule: 'schema:minimum' });
  });

  it('reports an unknown key at its own name', async () => {
    const dir = await temp({
      'r.yaml':
        'remotes:\n  a:\n    package: generic\n    base_url: https://a.example.com\n    bogus_key: 1\n',
    });
    const [issue] = await loadIssues(dir);
    expect(issue).toMatchObject({
      path: '/remotes/a/bogus_key',
      line: 5,
      rule: 'schema:additionalProperties',
    });
  });

  it('needs quarantine_days with quarantine_new', async () => {
    const dir = await temp({
      'r.yaml':
        'remotes:\n  a:\n    package: pypi\n    base_url: https://a.example.com\n    quarantine_new: true\n',
    });
    expect((await loadIssues(dir)).map((i) => i.rule)).toEqual(['seed-quarantine-days']);
  });

  it('explains Python-only regex syntax', async () => {
    const dir = await temp({
      'r.yaml':
        'remotes:\n  a:\n    package: generic\n    base_url: https://a.example.com\n    immutable_patterns: ["(?P<v>[0-9]+)"]\n',
    });
    const [issue] = await loadIssues(dir);
    expect(issue).toMatchObject({
      rule: 'pattern-compiles',
      path: '/remotes/a/immutable_patterns/0',
      line: 5,
    });
    expect(issue.message).toContain('(?<n>...)');
  });

  it('rejects virtual members of another package type', async () => {
    const dir = await temp({
      'r.yaml':
        'remotes:\n  h:\n    package: helm\n    base_url: https://h.example.com\n  n:\n    package: npm\n    base_url: https://n.example.com\n  all:\n    type: virtual\n    package: helm\n    members: [h, n]\n',
    });
    const [issue] = await loadIssues(dir);
    expect(issue).toMatchObject({
      rule: 'virtual-member-package',
      path: '/remotes/all/members/1',
      kind: 'VirtualRepository',
    });
  });

  it('merges remotes across files, later files winning', async () => {
    const dir = await temp({
      'a.yaml': 'remotes:\n  x:\n    package: generic\n    base_url: https://old.example.com\n',
      'b.yaml': 'remotes:\n  x:\n    package: generic\n    base_url: https://new.example.com\n',
    });
    const cfg = await loadConfig(dir);
    expect(cfg.remotes.get('x')!.baseUrl).toBe('https://new.example.com');
    expect(cfg.warnings.map((w) => w.rule)).toContain('name-overridden');
  });

  it('warns about global settings that come from the environment instead', async () => {
    const dir = await temp({ 'r.yaml': 'redis_url: redis://x\nremotes: {}\n' });
    const cfg = await loadConfig(dir);
    expect(cfg.warnings).toMatchObject([{ rule: 'seed-ignored-key', path: '/redis_url', line: 1 }]);
  });

  it('fails when config_dir does not exist', async () => {
    const dir = await temp({ 'main.yaml': 'config_dir: nowhere\n' });
    expect((await loadIssues(join(dir, 'main.yaml'))).map((i) => i.rule)).toEqual(['config-path']);
  });

  it.each([
    ['/spec/cache/mutableTtl', '/cache/mutable_ttl'],
    ['/spec/immutablePatterns/2', '/immutable_patterns/2'],
    ['/spec/quarantine/days', '/quarantine_days'],
    ['/spec/quarantine/exemptPatterns/0', '/quarantine_exempt_patterns/0'],
    ['/spec/options/pypiIndexUrl', '/options/pypi_index_url'],
    ['/metadata/name', ''],
  ])('seedPath(%s) = %s', (cr, seed) => {
    expect(seedPath(cr)).toBe(seed);
  });
});
