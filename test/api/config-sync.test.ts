import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type OrchardConfig } from '../../proxy/src/config/index.ts';
import type { ConfigSource } from '../../proxy/src/http/app.ts';
import { tmpDir } from '../harness/index.ts';
import { api, startTestServer, type TestServer } from './server.ts';

// Project and Package custom resources in the config become rows the API serves.
let s: TestServer;
let dir: string;
let current: OrchardConfig;
const source = { current: () => current, lastError: () => undefined } as unknown as ConfigSource;

async function writeConfig(description: string, access: string): Promise<void> {
  await writeFile(
    join(dir, 'resources.yaml'),
    `apiVersion: orchard.dev/v1alpha1
kind: Project
metadata: {name: cr-project}
spec:
  description: From a CR
  isPublic: false
  access:
${access}
---
apiVersion: orchard.dev/v1alpha1
kind: Package
metadata: {name: cr-project-releases}
spec: {project: cr-project, name: releases, description: ${description}, format: deb, platform: linux-amd64}
`,
  );
  current = await loadConfig(dir);
}

beforeAll(async () => {
  dir = await tmpDir('cfgsync-');
  await writeConfig(
    'Release builds',
    '    - {subject: alice, role: admin}\n    - {subject: bob, role: read}',
  );
  s = await startTestServer({ config: source });
});
afterAll(async () => {
  await s.close();
  await rm(dir, { recursive: true, force: true });
});

describe('config sync', () => {
  it('creates configured projects and packages, then follows changes', async () => {
    expect(await s.configSync.syncIfChanged()).toBe(true);
    const pkg = await api(s.url, 'GET', '/api/v1/project/cr-project/packages/releases');
    expect(pkg.json).toMatchObject({
      description: 'Release builds',
      format: 'deb',
      platform: 'linux-amd64',
      tag_count: 0,
    });
    expect((await api(s.url, 'GET', '/api/v1/projects/cr-project')).json).toMatchObject({
      description: 'From a CR',
      is_public: false,
      created_by: 'config',
    });
    expect(await s.configSync.syncIfChanged()).toBe(false);

    // The seed's create calls for a declared project and package are no-ops answering with the rows.
    const created = await api(s.url, 'POST', '/api/v1/projects', {
      name: 'cr-project',
      description: 'ignored',
    });
    expect(created.status).toBe(200);
    expect(created.json.description).toBe('From a CR');
    const pkgCreated = await api(s.url, 'POST', '/api/v1/project/cr-project/packages', { name: 'releases' });
    expect(pkgCreated.status).toBe(200);
    expect(pkgCreated.json.format).toBe('deb');
    expect((await api(s.url, 'POST', '/api/v1/project/cr-project/packages', { name: 'other' })).status).toBe(
      201,
    );
    expect((await api(s.url, 'POST', '/api/v1/project/cr-project/packages', { name: 'other' })).status).toBe(
      409,
    );

    await writeConfig('Renamed', '    - {subject: alice, role: write}');
    expect(await s.configSync.syncIfChanged()).toBe(true);
    expect((await api(s.url, 'GET', '/api/v1/project/cr-project/packages/releases')).json.description).toBe(
      'Renamed',
    );
    const { rows } = await s.db.query('SELECT subject, role FROM access_permissions ORDER BY subject');
    expect(rows).toEqual([{ subject: 'alice', role: 'write' }]);
  });
});
