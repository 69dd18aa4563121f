import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../proxy/src/clock.ts';
import { MIN_PART_SIZE } from '../../proxy/src/storage/blob-store.ts';
import { type Backends, fsAndPglite, s3AndPostgres } from './backends.ts';
import { api, startTestServer, type TestServer, upload } from './server.ts';

// The hosted API on each real backend pair, including a restart in the middle
// of a resumable upload (sessions live in the database and the store).
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.each([
  ['fs + PGlite', fsAndPglite],
  ['s3 + PostgreSQL', s3AndPostgres],
])('hosted API on %s', (_name, make) => {
  let backends: Backends;
  let s: TestServer;
  const clock = new ManualClock(Date.now());
  const base = '/api/v1/project/bk/files/upload';
  const start = async () => startTestServer({ ...(await backends.open()), clock });

  beforeAll(async () => {
    backends = await make();
    s = await start();
    await api(s.url, 'POST', '/api/v1/projects', { name: 'bk' });
    await api(s.url, 'POST', '/api/v1/project/bk/packages', { name: 'files' });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await backends?.dispose();
  });

  it('uploads, deduplicates and serves ranges', async () => {
    const data = Buffer.from('backend bytes '.repeat(1000));
    const first = await upload(s.url, 'bk', 'files', data, { fields: { tag: 'one' } });
    expect(first.json).toMatchObject({ artifact_id: sha(data), deduplicated: false });
    expect((await upload(s.url, 'bk', 'files', data)).json.deduplicated).toBe(true);
    const res = await fetch(`${s.url}/api/v1/project/bk/files/+/one`, { headers: { range: 'bytes=-14' } });
    expect(res.status).toBe(206);
    expect(await res.text()).toBe('backend bytes ');
  });

  it('resumes an upload across a restart', async () => {
    const data = Buffer.alloc(MIN_PART_SIZE + 4096, 3);
    data.write('head', 0);
    data.write('tail', data.length - 4);
    const init = await api(s.url, 'POST', `${base}/init`, {
      expected_hash: sha(data),
      size: data.length,
      tag: 'big',
    });
    const id = init.json.upload_id as string;
    const put = (n: number, body: Buffer) =>
      fetch(`${s.url}${base}/${id}/part/${n}`, { method: 'PUT', body });
    expect((await put(2, data.subarray(MIN_PART_SIZE))).status).toBe(200);

    await s.close();
    s = await start();

    expect((await api(s.url, 'GET', `${base}/${id}/status`)).json.uploaded_parts).toEqual([2]);
    expect((await put(1, data.subarray(0, MIN_PART_SIZE))).status).toBe(200);
    const done = await api(s.url, 'POST', `${base}/${id}/complete`);
    expect(done.json).toMatchObject({ artifact_id: sha(data), tag: 'big' });
    const res = await fetch(`${s.url}/api/v1/project/bk/files/+/big`);
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(data));
  });

  it('expires an abandoned session and aborts its multipart upload', async () => {
    const init = await api(s.url, 'POST', `${base}/init`, { expected_hash: sha('x'), size: 1 });
    const id = init.json.upload_id as string;
    await fetch(`${s.url}${base}/${id}/part/1`, { method: 'PUT', body: 'x' });
    clock.advance(48 * 60 * 60 * 1000);
    expect((await s.sweeper.sweepOnce()).expired).toBe(1);
    const { rows } = await s.db.query<{ blob_key: string; multipart_upload_id: string; status: string }>(
      'SELECT blob_key, multipart_upload_id, status FROM upload_sessions WHERE id = $1',
      [id],
    );
    expect(rows[0].status).toBe('expired');
    await expect(s.blobs.listParts(rows[0].blob_key, rows[0].multipart_upload_id)).rejects.toThrow();
  });

  it('deletes a package and its tags', async () => {
    await api(s.url, 'POST', '/api/v1/project/bk/packages', { name: 'doomed' });
    await upload(s.url, 'bk', 'doomed', 'doomed bytes', { fields: { tag: 't' } });
    expect((await api(s.url, 'DELETE', '/api/v1/project/bk/packages/doomed')).json).toMatchObject({
      tags_deleted: 1,
    });
    expect((await api(s.url, 'GET', '/api/v1/project/bk/packages/doomed')).status).toBe(404);
  });
});
