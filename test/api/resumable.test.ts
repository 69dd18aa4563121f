import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../proxy/src/clock.ts';
import { MIN_PART_SIZE } from '../../proxy/src/storage/blob-store.ts';
import { api, startTestServer, type TestServer } from './server.ts';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const clock = new ManualClock(Date.now());
let s: TestServer;
const base = '/api/v1/project/rp/files/upload';

function payload(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) b[i] = (i / 4096 + seed) % 256;
  return b;
}

async function putPart(id: string, n: number, body: Buffer) {
  const res = await fetch(`${s.url}${base}/${id}/part/${n}`, { method: 'PUT', body });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  s = await startTestServer({ clock });
  await api(s.url, 'POST', '/api/v1/projects', { name: 'rp' });
  await api(s.url, 'POST', '/api/v1/project/rp/packages', { name: 'files' });
});
afterAll(() => s.close());

describe('resumable upload', () => {
  it('assembles parts sent out of order and retried, verifies and serves them', async () => {
    const data = payload(2 * MIN_PART_SIZE + 12345, 1);
    const init = await api(s.url, 'POST', `${base}/init`, {
      expected_hash: sha(data),
      filename: 'large-file.tar.gz',
      size: data.length,
      tag: 'v2.0.0',
    });
    expect(init.status).toBe(201);
    expect(init.json).toMatchObject({
      upload_id: expect.any(String),
      already_exists: false,
      chunk_size: 10 * MiB,
    });
    const id = init.json.upload_id;
    const parts = [
      data.subarray(0, MIN_PART_SIZE),
      data.subarray(MIN_PART_SIZE, 2 * MIN_PART_SIZE),
      data.subarray(2 * MIN_PART_SIZE),
    ];
    expect((await putPart(id, 3, parts[2])).status).toBe(200);
    expect((await putPart(id, 1, Buffer.alloc(MIN_PART_SIZE, 9))).status).toBe(200);
    expect((await putPart(id, 2, parts[1])).status).toBe(200);
    expect((await putPart(id, 1, parts[0])).json).toMatchObject({ part_number: 1, size: MIN_PART_SIZE });

    const status = await api(s.url, 'GET', `${base}/${id}/status`);
    expect(status.json).toMatchObject({
      status: 'pending',
      uploaded_parts: [1, 2, 3],
      total_uploaded_bytes: data.length,
    });

    const done = await api(s.url, 'POST', `${base}/${id}/complete`, { tag: 'v2.0.0' });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      artifact_id: sha(data),
      size: data.length,
      project: 'rp',
      package: 'files',
      tag: 'v2.0.0',
      deduplicated: false,
    });
    const res = await fetch(`${s.url}/api/v1/project/rp/files/+/v2.0.0`);
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(data));
    expect((await api(s.url, 'GET', `${base}/${id}/status`)).json.status).toBe('completed');
    expect((await putPart(id, 1, parts[0])).status).toBe(409);
  });

  it('answers already_exists for a known hash and tags it without an upload', async () => {
    const data = Buffer.from('already here');
    const form = new FormData();
    form.append('file', new Blob([data]), 'x.bin');
    await fetch(`${s.url}/api/v1/project/rp/files/upload`, { method: 'POST', body: form });
    const init = await api(s.url, 'POST', `${base}/init`, {
      expected_hash: sha(data),
      size: data.length,
      tag: 'dup',
    });
    expect(init.status).toBe(200);
    expect(init.json).toMatchObject({
      upload_id: null,
      already_exists: true,
      chunk_size: 10 * MiB,
      artifact_id: sha(data),
    });
    const tag = await api(s.url, 'GET', '/api/v1/project/rp/files/tags/dup');
    expect(tag.json.artifact_id).toBe(sha(data));
  });

  it('refuses to complete when the bytes do not match expected_hash, publishing nothing', async () => {
    const data = payload(1000, 2);
    const wrong = sha(Buffer.from('something else'));
    const init = await api(s.url, 'POST', `${base}/init`, { expected_hash: wrong, size: data.length });
    await putPart(init.json.upload_id, 1, data);
    const done = await api(s.url, 'POST', `${base}/${init.json.upload_id}/complete`);
    expect(done.status).toBe(422);
    expect(done.json).toMatchObject({
      code: 'DIGEST_MISMATCH',
      detail: { expected: wrong, actual: sha(data) },
    });
    expect(await s.blobs.stat(`blobs/sha256/${sha(data).slice(0, 2)}/${sha(data)}`)).toBeUndefined();
    expect((await api(s.url, 'GET', `/api/v1/artifact/${sha(data)}`)).status).toBe(404);
    expect((await api(s.url, 'GET', `${base}/${init.json.upload_id}/status`)).json.status).toBe('aborted');
  });

  it('explains a too-small middle part and lets the client fix it', async () => {
    const data = payload(MIN_PART_SIZE + 100, 3);
    const init = await api(s.url, 'POST', `${base}/init`, { expected_hash: sha(data), size: data.length });
    const id = init.json.upload_id;
    await putPart(id, 1, data.subarray(0, 100));
    await putPart(id, 2, data.subarray(100));
    const bad = await api(s.url, 'POST', `${base}/${id}/complete`);
    expect(bad.status).toBe(422);
    expect(bad.json.error).toMatch(/part 1 is 100 bytes; every part but the last must be at least 5242880/);
    // Re-split: one full part and a short last one.
    await putPart(id, 1, data.subarray(0, MIN_PART_SIZE));
    await putPart(id, 2, data.subarray(MIN_PART_SIZE));
    expect((await api(s.url, 'POST', `${base}/${id}/complete`)).status).toBe(200);
  });

  it('reports missing bytes at complete', async () => {
    const data = payload(3000, 4);
    const init = await api(s.url, 'POST', `${base}/init`, { expected_hash: sha(data), size: data.length });
    await putPart(init.json.upload_id, 1, data.subarray(0, 1000));
    const res = await api(s.url, 'POST', `${base}/${init.json.upload_id}/complete`);
    expect(res.status).toBe(422);
    expect(res.json.detail).toMatchObject({ expected_size: 3000, received_size: 1000 });
  });

  it('aborts a session', async () => {
    const data = payload(100, 5);
    const init = await api(s.url, 'POST', `${base}/init`, { expected_hash: sha(data), size: 100 });
    await putPart(init.json.upload_id, 1, data);
    const res = await api(s.url, 'DELETE', `${base}/${init.json.upload_id}`);
    expect(res.json).toEqual({ upload_id: init.json.upload_id, status: 'aborted' });
    expect((await putPart(init.json.upload_id, 1, data)).status).toBe(409);
    expect((await api(s.url, 'POST', `${base}/${init.json.upload_id}/complete`)).status).toBe(409);
  });

  it('rejects a part larger than the upload, or parts adding up to more than twice it, with 413', async () => {
    const init = await api(s.url, 'POST', `${base}/init`, { expected_hash: sha(Buffer.alloc(10)), size: 10 });
    const id = init.json.upload_id;
    expect((await putPart(id, 1, Buffer.alloc(11))).status).toBe(413);
    expect((await putPart(id, 1, Buffer.alloc(10))).status).toBe(200);
    expect((await putPart(id, 2, Buffer.alloc(10))).status).toBe(200);
    expect((await putPart(id, 3, Buffer.alloc(1))).status).toBe(413);
    expect((await putPart(id, 2, Buffer.alloc(3))).status).toBe(200);
    expect((await putPart(id, 3, Buffer.alloc(7))).status).toBe(200);
  });

  it.each([
    [{ size: 10 }, 'expected_hash'],
    [{ expected_hash: 'abc', size: 10 }, 'expected_hash'],
    [{ expected_hash: 'a'.repeat(64) }, 'size'],
    [{ expected_hash: 'a'.repeat(64), size: -1 }, 'size'],
  ])('rejects init %j with 422', async (body, field) => {
    const res = await api(s.url, 'POST', `${base}/init`, body);
    expect(res.status).toBe(422);
    expect(res.json.detail.field).toBe(field);
  });

  it('answers 404 for an unknown session and a session of another package', async () => {
    expect((await api(s.url, 'GET', `${base}/deadbeef/status`)).status).toBe(404);
    await api(s.url, 'POST', '/api/v1/project/rp/packages', { name: 'other' });
    const init = await api(s.url, 'POST', `${base}/init`, { expected_hash: 'b'.repeat(64), size: 1 });
    expect(
      (await api(s.url, 'GET', `/api/v1/project/rp/other/upload/${init.json.upload_id}/status`)).status,
    ).toBe(404);
  });

  it('expires abandoned sessions and aborts their multipart uploads', async () => {
    const data = payload(100, 6);
    const init = await api(s.url, 'POST', `${base}/init`, { expected_hash: sha(data), size: 100 });
    const id = init.json.upload_id;
    await putPart(id, 1, data);
    clock.advance(25 * 60 * 60 * 1000);
    expect((await putPart(id, 1, data)).status).toBe(404);
    const swept = await s.sweeper.sweepOnce();
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    expect((await api(s.url, 'GET', `${base}/${id}/status`)).json.status).toBe('expired');
    const { rows } = await s.db.query<{ blob_key: string; multipart_upload_id: string }>(
      'SELECT blob_key, multipart_upload_id FROM upload_sessions WHERE id = $1',
      [id],
    );
    await expect(s.blobs.listParts(rows[0].blob_key, rows[0].multipart_upload_id)).rejects.toThrow(
      /not found/i,
    );
  });

  it('stops its sweeper timer once the proxy has shut down', async () => {
    const other = await startTestServer({ sweepIntervalMs: 20 });
    expect(other.sweeper.active).toBe(true);
    await other.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(other.sweeper.active).toBe(false);
  });
});
