import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer, type TestServer, upload } from './server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('projects', () => {
  it('creates a project with the seed body and returns it', async () => {
    const res = await api(s.url, 'POST', '/api/v1/projects', {
      name: 'proj-create',
      description: 'My project artifacts',
      is_public: true,
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      name: 'proj-create',
      description: 'My project artifacts',
      is_public: true,
    });
    expect(res.json.id).toMatch(/^[0-9a-f-]{36}$/);
    const got = await api(s.url, 'GET', '/api/v1/projects/proj-create');
    expect(got.json).toMatchObject({ name: 'proj-create', package_count: 0 });
  });

  it('answers 409 for a duplicate project name', async () => {
    await api(s.url, 'POST', '/api/v1/projects', { name: 'proj-dup' });
    const res = await api(s.url, 'POST', '/api/v1/projects', { name: 'proj-dup' });
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('CONFLICT');
  });

  it.each(['', '-lead', 'has space', 'a/b', 'x'.repeat(254), 'ünï'])(
    'rejects the project name %j with 400',
    async (name) => {
      const res = await api(s.url, 'POST', '/api/v1/projects', { name });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('INVALID_NAME');
    },
  );

  it('answers 404 with a JSON error for an unknown project', async () => {
    const res = await api(s.url, 'GET', '/api/v1/projects/nope-404');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'NOT_FOUND', error: expect.stringContaining('nope-404') });
  });

  it('lists projects as an array, searchable, with the total in a header', async () => {
    await api(s.url, 'POST', '/api/v1/projects', { name: 'list-alpha', description: 'findme' });
    await api(s.url, 'POST', '/api/v1/projects', { name: 'list-beta' });
    const res = await api(s.url, 'GET', '/api/v1/projects?search=findme');
    expect(res.json.map((p: { name: string }) => p.name)).toEqual(['list-alpha']);
    expect(res.headers.get('x-total-count')).toBe('1');
    const all = await api(s.url, 'GET', '/api/v1/projects?limit=1&page=2');
    expect(all.json).toHaveLength(1);
  });
});

describe('packages', () => {
  beforeAll(async () => {
    await api(s.url, 'POST', '/api/v1/projects', { name: 'pk' });
  });

  it('creates a package with format and platform, answering with zero aggregates', async () => {
    const res = await api(s.url, 'POST', '/api/v1/project/pk/packages', {
      name: 'releases',
      description: 'Release builds',
      format: 'deb',
      platform: 'linux-amd64',
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      name: 'releases',
      description: 'Release builds',
      format: 'deb',
      platform: 'linux-amd64',
      tag_count: 0,
      artifact_count: 0,
      total_size: 0,
      latest_tag: null,
      latest_upload_at: null,
    });
  });

  it('defaults format to generic and platform to any', async () => {
    const res = await api(s.url, 'POST', '/api/v1/project/pk/packages', { name: 'plain' });
    expect(res.json).toMatchObject({ format: 'generic', platform: 'any' });
  });

  it.each([
    [{ name: 'dup-pkg' }, 409, 'CONFLICT'],
    [{ name: 'bad-format', format: 'exe' }, 422, 'VALIDATION_FAILED'],
    [{ name: 'bad-platform', platform: 'Linux AMD64' }, 422, 'VALIDATION_FAILED'],
    [{ name: 'bad name' }, 400, 'INVALID_NAME'],
    [{ name: 'packages' }, 400, 'INVALID_NAME'],
  ])('rejects %j with %i %s', async (body, status, code) => {
    if (body.name === 'dup-pkg') await api(s.url, 'POST', '/api/v1/project/pk/packages', body);
    const res = await api(s.url, 'POST', '/api/v1/project/pk/packages', body);
    expect(res.status).toBe(status);
    expect(res.json.code).toBe(code);
  });

  it('answers 404 when the project does not exist', async () => {
    const res = await api(s.url, 'POST', '/api/v1/project/ghost/packages', { name: 'x' });
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('NOT_FOUND');
  });
});

describe('package list and detail', () => {
  beforeAll(async () => {
    await api(s.url, 'POST', '/api/v1/projects', { name: 'agg' });
    for (const [name, format, platform, description] of [
      ['cli', 'generic', 'linux', 'command line tool'],
      ['lib', 'npm', 'any', 'a library'],
      ['chart', 'helm', 'any', 'the chart'],
    ]) {
      await api(s.url, 'POST', '/api/v1/project/agg/packages', { name, format, platform, description });
    }
    await upload(s.url, 'agg', 'cli', 'one', { filename: 'cli-1.0.0.tar.gz', fields: { tag: 'v1' } });
    await upload(s.url, 'agg', 'cli', 'two!', { filename: 'cli-2.0.0.tar.gz', fields: { tag: 'v2' } });
    await upload(s.url, 'agg', 'cli', 'two!', { filename: 'again.bin' });
    for (const t of ['a', 'b', 'c', 'd', 'e', 'f'])
      await upload(s.url, 'agg', 'lib', `lib-${t}`, { fields: { tag: t } });
  });

  it('returns the paginated envelope with aggregates per package', async () => {
    const res = await api(s.url, 'GET', '/api/v1/project/agg/packages?limit=2');
    expect(res.status).toBe(200);
    expect(res.json.pagination).toEqual({ page: 1, limit: 2, total: 3, total_pages: 2, has_more: true });
    expect(res.json.items.map((p: { name: string }) => p.name)).toEqual(['chart', 'cli']);
    expect(res.json.items[1]).toMatchObject({
      tag_count: 2,
      artifact_count: 2,
      total_size: 3 + 4,
      latest_tag: 'v2',
      latest_upload_at: expect.any(String),
    });
  });

  it.each([
    ['search=library', ['lib']],
    ['search=cli', ['cli']],
    ['format=helm', ['chart']],
    ['platform=linux', ['cli']],
    ['sort=name&order=desc', ['lib', 'cli', 'chart']],
    ['sort=created_at&order=asc', ['cli', 'lib', 'chart']],
  ])('filters and sorts with %s', async (query, names) => {
    const res = await api(s.url, 'GET', `/api/v1/project/agg/packages?${query}`);
    expect(res.json.items.map((p: { name: string }) => p.name)).toEqual(names);
  });

  it.each(['sort=size', 'order=up', 'format=exe', 'limit=0', 'limit=101', 'page=0'])(
    'rejects %s with 422',
    async (query) => {
      const res = await api(s.url, 'GET', `/api/v1/project/agg/packages?${query}`);
      expect(res.status).toBe(422);
      expect(res.json.code).toBe('VALIDATION_FAILED');
    },
  );

  it('shows the last five tags in detail and all of them with include_tags', async () => {
    const res = await api(s.url, 'GET', '/api/v1/project/agg/packages/lib');
    expect(res.json).toMatchObject({ name: 'lib', tag_count: 6, artifact_count: 6, latest_tag: 'f' });
    expect(res.json.recent_tags.map((t: { name: string }) => t.name)).toEqual(['f', 'e', 'd', 'c', 'b']);
    expect(res.json.tags).toBeUndefined();
    const all = await api(s.url, 'GET', '/api/v1/project/agg/packages/lib?include_tags=true');
    expect(all.json.tags).toHaveLength(6);
  });

  it('answers 404 for an unknown package', async () => {
    const res = await api(s.url, 'GET', '/api/v1/project/agg/packages/nope');
    expect(res.status).toBe(404);
    expect(res.json.error).toContain('nope');
  });
});

describe('deleting', () => {
  it('deletes a package, its tags and upload records, and releases artifact ref counts', async () => {
    await api(s.url, 'POST', '/api/v1/projects', { name: 'del' });
    await api(s.url, 'POST', '/api/v1/project/del/packages', { name: 'gone' });
    await api(s.url, 'POST', '/api/v1/project/del/packages', { name: 'kept' });
    const up = await upload(s.url, 'del', 'gone', 'shared bytes', { fields: { tag: 'x' } });
    await upload(s.url, 'del', 'kept', 'shared bytes', { fields: { tag: 'y' } });
    expect((await api(s.url, 'GET', `/api/v1/artifact/${up.json.artifact_id}`)).json.ref_count).toBe(2);

    const res = await api(s.url, 'DELETE', '/api/v1/project/del/packages/gone');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ deleted: true, tags_deleted: 1, artifacts_released: 1 });
    expect((await api(s.url, 'GET', '/api/v1/project/del/packages/gone')).status).toBe(404);
    const art = await api(s.url, 'GET', `/api/v1/artifact/${up.json.artifact_id}`);
    expect(art.json.ref_count).toBe(1);
    expect(art.json.references.map((r: { package: string }) => r.package)).toEqual(['kept']);
    expect((await api(s.url, 'DELETE', '/api/v1/project/del/packages/gone')).status).toBe(404);
  });

  it('deletes a project with its packages', async () => {
    await api(s.url, 'POST', '/api/v1/projects', { name: 'del-proj' });
    await api(s.url, 'POST', '/api/v1/project/del-proj/packages', { name: 'p1' });
    await upload(s.url, 'del-proj', 'p1', 'proj bytes', { fields: { tag: 't' } });
    const res = await api(s.url, 'DELETE', '/api/v1/projects/del-proj');
    expect(res.json).toMatchObject({ deleted: true, packages_deleted: 1, tags_deleted: 1 });
    expect((await api(s.url, 'GET', '/api/v1/projects/del-proj')).status).toBe(404);
  });
});
