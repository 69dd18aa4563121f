import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tar } from '../../proxy/src/metadata/test-archives.ts';
import type { BlobStore } from '../../proxy/src/storage/blob-store.ts';
import { api, startTestServer, type TestServer, upload } from './server.ts';

let s: TestServer;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function keys(blobs: BlobStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of blobs.list(prefix)) out.push(o.key);
  return out.sort();
}

beforeAll(async () => {
  s = await startTestServer({ limits: { maxUploadBytes: 64 * 1024 } });
  await api(s.url, 'POST', '/api/v1/projects', { name: 'my-project' });
  await api(s.url, 'POST', '/api/v1/project/my-project/packages', { name: 'releases' });
});
afterAll(() => s.close());

describe('upload', () => {
  const tarball = gzipSync(tar([{ path: 'app/bin/app', body: '#!/bin/sh\necho hi\n' }]));

  it('stores a multipart upload and answers with the seed fields', async () => {
    const res = await upload(s.url, 'my-project', 'releases', tarball, {
      filename: 'app-v1.0.0.tar.gz',
      fields: { tag: 'v1.0.0' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      artifact_id: sha(tarball),
      size: tarball.length,
      project: 'my-project',
      package: 'releases',
      tag: 'v1.0.0',
      format_metadata: { format: 'tarball', package_name: 'app', version: '1.0.0' },
      deduplicated: false,
      original_name: 'app-v1.0.0.tar.gz',
      content_type: 'application/octet-stream',
    });
    expect(await keys(s.blobs, 'blobs/')).toContain(
      `blobs/sha256/${sha(tarball).slice(0, 2)}/${sha(tarball)}`,
    );
    expect(await keys(s.blobs, 'tmp/')).toEqual([]);
  });

  it('deduplicates identical bytes and records every upload and an audit entry', async () => {
    const body = 'dedup me';
    const first = await upload(s.url, 'my-project', 'releases', body);
    const second = await upload(s.url, 'my-project', 'releases', body, { filename: 'other-name.bin' });
    expect(first.json.deduplicated).toBe(false);
    expect(second.json).toMatchObject({
      artifact_id: sha(body),
      deduplicated: true,
      original_name: 'file.bin',
    });
    const { rows } = await s.db.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(*) FILTER (WHERE deduplicated)::int AS d FROM uploads WHERE artifact_id = $1',
      [sha(body)],
    );
    expect(rows[0]).toEqual({ n: 2, d: 1 });
    const audit = await s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_logs WHERE action = 'artifact.upload' AND details->>'artifact_id' = $1`,
      [sha(body)],
    );
    expect(audit.rows[0].n).toBe(2);
    expect((await keys(s.blobs, 'blobs/')).filter((k) => k.endsWith(sha(body)))).toHaveLength(1);
  });

  it.each([
    ['a header', { headers: { 'X-Checksum-Sha256': sha('something else') } }],
    ['a form field', { fields: { expected_hash: sha('something else') } }],
  ])('rejects a hash mismatch given in %s with 422 and stores nothing', async (_how, opts) => {
    const before = await keys(s.blobs, '');
    const res = await upload(s.url, 'my-project', 'releases', 'mismatching body', opts);
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('DIGEST_MISMATCH');
    expect(await keys(s.blobs, '')).toEqual(before);
    expect((await api(s.url, 'GET', `/api/v1/artifact/${sha('mismatching body')}`)).status).toBe(404);
  });

  it('accepts a matching expected hash', async () => {
    const res = await upload(s.url, 'my-project', 'releases', 'matching', {
      fields: { expected_hash: sha('matching') },
    });
    expect(res.status).toBe(200);
  });

  it('rejects an upload over the size limit with 413 and stores nothing', async () => {
    const before = await keys(s.blobs, '');
    const res = await upload(s.url, 'my-project', 'releases', Buffer.alloc(200 * 1024, 1));
    expect(res.status).toBe(413);
    expect(res.json.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await keys(s.blobs, '')).toEqual(before);
  });

  it('stops a chunked upload that passes the limit mid-stream with 413', async () => {
    const before = await keys(s.blobs, '');
    const boundary = 'xyzzy';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`;
    async function* body() {
      yield Buffer.from(head);
      for (let i = 0; i < 20; i++) yield Buffer.alloc(16 * 1024, 2);
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }
    const res = await fetch(`${s.url}/api/v1/project/my-project/releases/upload`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: ReadableStream.from(body()),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await keys(s.blobs, '')).toEqual(before);
  });

  it.each([
    [
      'no file field',
      () => ({
        body: (() => {
          const f = new FormData();
          f.append('tag', 'x');
          return f;
        })(),
      }),
      400,
    ],
    ['a JSON body', () => ({ body: '{}', headers: { 'content-type': 'application/json' } }), 415],
  ])('rejects %s', async (_name, make, status) => {
    const res = await fetch(`${s.url}/api/v1/project/my-project/releases/upload`, {
      method: 'POST',
      ...make(),
    });
    expect(res.status).toBe(status);
  });

  it('rejects an invalid tag with 400 and leaves no temporary object', async () => {
    const res = await upload(s.url, 'my-project', 'releases', 'tagged badly', {
      fields: { tag: 'bad tag!' },
    });
    expect(res.status).toBe(400);
    expect(await keys(s.blobs, 'tmp/')).toEqual([]);
    expect((await api(s.url, 'GET', `/api/v1/artifact/${sha('tagged badly')}`)).status).toBe(404);
  });

  it('answers 404 for an unknown package before reading the body', async () => {
    const res = await upload(s.url, 'my-project', 'nope', 'x');
    expect(res.status).toBe(404);
  });
});

describe('download', () => {
  const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
  const id = sha(data);
  const base = '/api/v1/project/my-project/releases/+';
  beforeAll(async () => {
    await upload(s.url, 'my-project', 'releases', data, {
      filename: 'données v2.bin',
      fields: { tag: '2024.1' },
    });
    await api(s.url, 'POST', '/api/v1/project/my-project/releases/tags', { name: 'latest', artifact_id: id });
  });

  it.each([
    ['a bare tag', `${base}/latest`],
    ['tag:', `${base}/tag:latest`],
    ['version:', `${base}/version:2024.1`],
    ['artifact:', `${base}/artifact:${id}`],
    ['a bare digest', `${base}/${id}`],
    ['the short URL', '/project/my-project/releases/+/latest'],
    ['an abbreviated digest', `${base}/artifact:${id.slice(0, 16)}`],
  ])('serves the artifact by %s', async (_name, path) => {
    const res = await fetch(`${s.url}${path}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    expect(res.headers.get('etag')).toBe(`"${id}"`);
    expect(res.headers.get('content-length')).toBe('5000');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="donn_es v2.bin"; filename*=UTF-8''donn%C3%A9es%20v2.bin`,
    );
  });

  it.each([
    ['bytes=0-1023', 206, 0, 1023],
    ['bytes=4990-', 206, 4990, 4999],
    ['bytes=-10', 206, 4990, 4999],
    ['bytes=100-99999', 206, 100, 4999],
  ])('serves Range %s', async (range, status, start, end) => {
    const res = await fetch(`${s.url}${base}/latest`, { headers: { range } });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/5000`);
    expect(Buffer.from(await res.arrayBuffer()).equals(data.subarray(start, end + 1))).toBe(true);
  });

  it('answers 416 with Content-Range bytes */size for an unsatisfiable range', async () => {
    const res = await fetch(`${s.url}${base}/latest`, { headers: { range: 'bytes=5000-' } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */5000');
    expect(((await res.json()) as { code: string }).code).toBe('RANGE_NOT_SATISFIABLE');
  });

  it('honours If-Range only while the ETag matches', async () => {
    const same = await fetch(`${s.url}${base}/latest`, {
      headers: { range: 'bytes=0-9', 'if-range': `"${id}"` },
    });
    expect(same.status).toBe(206);
    await same.arrayBuffer();
    const other = await fetch(`${s.url}${base}/latest`, {
      headers: { range: 'bytes=0-9', 'if-range': '"stale"' },
    });
    expect(other.status).toBe(200);
    expect((await other.arrayBuffer()).byteLength).toBe(5000);
  });

  it('serves the newest upload as latest when no tag is called latest', async () => {
    await api(s.url, 'POST', '/api/v1/project/my-project/packages', { name: 'untagged' });
    await upload(s.url, 'my-project', 'untagged', 'old');
    await upload(s.url, 'my-project', 'untagged', 'new');
    const res = await fetch(`${s.url}/project/my-project/untagged/+/latest`);
    expect(await res.text()).toBe('new');
  });

  it('answers 304 to If-None-Match with the ETag', async () => {
    const res = await fetch(`${s.url}${base}/latest`, { headers: { 'if-none-match': `"${id}"` } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe(`"${id}"`);
  });

  it('answers HEAD with the same headers, the checksum and the metadata, and no body', async () => {
    const tarball = gzipSync(tar([{ path: 'tool/README', body: 'x' }]));
    await upload(s.url, 'my-project', 'releases', tarball, {
      filename: 'tool-3.2.1.tgz',
      fields: { tag: 'tool' },
    });
    const res = await fetch(`${s.url}${base}/tool`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-checksum-sha256')).toBe(sha(tarball));
    expect(res.headers.get('content-length')).toBe(String(tarball.length));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('x-orchard-format')).toBe('tarball');
    expect(res.headers.get('x-orchard-metadata-package-name')).toBe('tool');
    expect(res.headers.get('x-orchard-metadata-version')).toBe('3.2.1');
    expect(await res.text()).toBe('');
  });

  it('marks digest downloads immutable and tag downloads revalidated', async () => {
    const byDigest = await fetch(`${s.url}${base}/artifact:${id}`, { method: 'HEAD' });
    expect(byDigest.headers.get('cache-control')).toContain('immutable');
    const byTag = await fetch(`${s.url}${base}/latest`, { method: 'HEAD' });
    expect(byTag.headers.get('cache-control')).toBe('no-cache');
  });

  it.each([
    ['an unknown tag', `${base}/nope`],
    ['an artifact of another package', `${base}/artifact:${'0'.repeat(64)}`],
    ['an unknown version', `${base}/version:9.9`],
  ])('answers 404 for %s', async (_name, path) => {
    const res = await fetch(`${s.url}${path}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
  });
});

describe('tags', () => {
  const a = 'tag target a';
  const b = 'tag target b';
  const tags = '/api/v1/project/my-project/releases/tags';
  beforeAll(async () => {
    await upload(s.url, 'my-project', 'releases', a);
    await upload(s.url, 'my-project', 'releases', b);
  });

  it('creates, moves and lists tags, recording history old → new', async () => {
    const created = await api(s.url, 'POST', tags, { name: 'stable', artifact_id: sha(a) });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'stable', artifact_id: sha(a) });
    const moved = await api(s.url, 'POST', tags, { name: 'stable', artifact_id: sha(b) });
    expect(moved.status).toBe(200);
    expect(moved.json).toMatchObject({ artifact_id: sha(b), previous_artifact_id: sha(a) });
    const history = await api(s.url, 'GET', `${tags}/stable/history`);
    expect(
      history.json.map((h: { old_artifact_id: string; new_artifact_id: string }) => [
        h.old_artifact_id,
        h.new_artifact_id,
      ]),
    ).toEqual([
      [sha(a), sha(b)],
      [null, sha(a)],
    ]);
    expect(history.json[0].changed_by).toBe('anonymous');
    const list = await api(s.url, 'GET', tags);
    expect(list.json.find((t: { name: string }) => t.name === 'stable')).toMatchObject({
      artifact_id: sha(b),
    });
    expect((await api(s.url, 'GET', `/api/v1/artifact/${sha(a)}`)).json.ref_count).toBe(0);
    expect((await api(s.url, 'GET', `/api/v1/artifact/${sha(b)}`)).json.ref_count).toBe(1);
  });

  it.each([
    [{ name: 'x', artifact_id: 'f'.repeat(64) }, 404, 'NOT_FOUND'],
    [{ name: 'bad tag', artifact_id: 'f'.repeat(64) }, 400, 'INVALID_NAME'],
    [{ name: 'ok', artifact_id: 'short' }, 422, 'VALIDATION_FAILED'],
  ])('rejects %j with %i', async (body, status, code) => {
    const res = await api(s.url, 'POST', tags, body);
    expect(res.status).toBe(status);
    expect(res.json.code).toBe(code);
  });

  it('accepts an abbreviated artifact id when it is unique', async () => {
    const res = await api(s.url, 'POST', tags, { name: 'short', artifact_id: sha(a).slice(0, 12) });
    expect(res.status).toBe(201);
    expect(res.json.artifact_id).toBe(sha(a));
  });

  it('accepts semver build metadata and upper case in tag names', async () => {
    const res = await api(s.url, 'POST', tags, { name: 'V1.0.0+build.7', artifact_id: sha(a) });
    expect(res.status).toBe(201);
  });

  it('answers 404 for the history of an unknown tag', async () => {
    expect((await api(s.url, 'GET', `${tags}/nope/history`)).status).toBe(404);
  });
});

describe('artifacts and consumers', () => {
  it('shows an artifact with where it is referenced', async () => {
    const up = await upload(s.url, 'my-project', 'releases', 'referenced', { fields: { tag: 'ref-1' } });
    const res = await api(s.url, 'GET', `/api/v1/artifact/${up.json.artifact_id}`);
    expect(res.json).toMatchObject({
      id: up.json.artifact_id,
      size: 10,
      ref_count: 1,
      references: [{ project: 'my-project', package: 'releases', tags: ['ref-1'], uploads: 1 }],
      tags: [{ project: 'my-project', package: 'releases', tag: 'ref-1' }],
    });
  });

  it.each([
    ['f'.repeat(64), 404],
    ['not-a-digest', 422],
  ])('answers /artifact/%s with %i', async (id, status) => {
    expect((await api(s.url, 'GET', `/api/v1/artifact/${id}`)).status).toBe(status);
  });

  it('registers consumers and lists them', async () => {
    const path = '/api/v1/project/my-project/releases/consumers';
    const first = await api(s.url, 'POST', path, { project_url: 'https://git.example.com/team/app' });
    expect(first.status).toBe(201);
    const again = await api(s.url, 'POST', path, { project_url: 'https://git.example.com/team/app' });
    expect(again.status).toBe(200);
    const list = await api(s.url, 'GET', path);
    expect(list.json).toEqual([expect.objectContaining({ project_url: 'https://git.example.com/team/app' })]);
    expect((await api(s.url, 'POST', path, { project_url: 'not a url' })).status).toBe(422);
  });
});
