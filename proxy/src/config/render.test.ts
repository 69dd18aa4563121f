import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from './load.ts';
import { renderConfigDocuments } from './render.ts';
import { samplesDir, tempConfig, testdata } from './test-helpers.ts';
import type { OrchardConfig } from './types.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function roundTrip(cfg: OrchardConfig): Promise<OrchardConfig> {
  const { configYaml, credentialsYaml } = renderConfigDocuments(cfg);
  const t = await tempConfig({ 'config.yaml': configYaml, 'credentials.yaml': credentialsYaml });
  cleanups.push(t.cleanup);
  return loadConfig(t.dir);
}

function credentialsOf(cfg: OrchardConfig): Record<string, unknown> {
  return Object.fromEntries(
    [...cfg.remotes.keys()].map((r) => [r, cfg.credentials(r) && { ...cfg.credentials(r) }]),
  );
}

describe('renderConfigDocuments', () => {
  it.each([
    ['config/samples', samplesDir],
    ['seed docker (inline credentials)', join(testdata, 'seed', '05-docker.yaml')],
    ['seed virtual', join(testdata, 'seed', '09-virtual.yaml')],
    ['seed quarantine', join(testdata, 'seed', '11-quarantine.yaml')],
  ])('%s: loading the rendered documents reproduces the config', async (_name, path) => {
    const cfg = await loadConfig(path);
    const again = await roundTrip(cfg);
    expect(again.digest).toBe(cfg.digest);
    expect(again.redacted()).toEqual(cfg.redacted());
    expect(credentialsOf(again)).toEqual(credentialsOf(cfg));
  });

  it('keeps credentials out of the config document', async () => {
    const cfg = await loadConfig(samplesDir);
    const { configYaml, credentialsYaml } = renderConfigDocuments(cfg);
    expect(configYaml).not.toContain('ghp_your_pat');
    expect(credentialsYaml).toContain('ghp_your_pat');
    const kinds = parseAllDocuments(credentialsYaml).map((d) => d.toJS().kind);
    expect(kinds).toEqual(['Secret']);
  });

  it('spells out every default so the rendered config does not depend on CRD defaults', async () => {
    const cfg = await loadConfig(join(testdata, 'seed', '03-alpine.yaml'));
    const [doc] = parseAllDocuments(renderConfigDocuments(cfg).configYaml).map((d) => d.toJS());
    expect(doc.spec).toEqual({
      type: 'remote',
      package: 'alpine',
      baseUrl: 'https://dl-cdn.alpinelinux.org',
      description: '',
      immutablePatterns: ['.*/x86_64/.*\\.apk$'],
      checkMutableUpdates: false,
      cache: { immutableTtl: 0, mutableTtl: 7200, negativeTtl: 60 },
      staleOnError: ['network'],
    });
  });

  it('renders nothing for credentials when no remote has any', async () => {
    const cfg = await loadConfig(join(testdata, 'seed', '03-alpine.yaml'));
    expect(renderConfigDocuments(cfg).credentialsYaml).toBe('');
  });
});
