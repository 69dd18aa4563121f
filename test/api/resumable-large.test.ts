import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backends, fsAndPglite } from './backends.ts';
import { bytesAt, dataStream, sha256Of } from './data-gen.ts';
import { api, startTestServer, type TestServer } from './server.ts';

// The acceptance test: 1 GiB in shuffled parts, one part sent wrong
// then retried, one attempt cut off mid-body, completes, verifies, and
// downloads byte-identical (compared by sha256 of the streams).
const GiB = 1024 * 1024 * 1024;
const SIZE = GiB + 12_345;
const SEED = 42;

let backends: Backends;
let s: TestServer;
beforeAll(async () => {
  backends = await fsAndPglite();
  s = await startTestServer(await backends.open());
  await api(s.url, 'POST', '/api/v1/projects', { name: 'big' });
  await api(s.url, 'POST', '/api/v1/project/big/packages', { name: 'blobs' });
}, 60_000);
afterAll(async () => {
  await s?.close();
  await backends?.dispose();
});

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('a 1 GiB resumable upload', () => {
  it('completes from shuffled, retried parts and downloads byte-identical', {
    timeout: 600_000,
  }, async () => {
    const expected = await sha256Of(dataStream(SEED, 0, SIZE));
    const base = '/api/v1/project/big/blobs/upload';
    const init = await api(s.url, 'POST', `${base}/init`, {
      expected_hash: expected,
      filename: 'disk.img',
      size: SIZE,
      tag: 'v1',
    });
    expect(init.status).toBe(201);
    const { upload_id: id, chunk_size: chunk } = init.json as { upload_id: string; chunk_size: number };
    const parts = Array.from({ length: Math.ceil(SIZE / chunk) }, (_, i) => i + 1);
    const range = (n: number) => ({
      offset: (n - 1) * chunk,
      length: Math.min(chunk, SIZE - (n - 1) * chunk),
    });
    const send = async (n: number, body: Buffer) => {
      const res = await fetch(`${s.url}${base}/${id}/part/${n}`, { method: 'PUT', body });
      expect(res.status, `part ${n}`).toBe(200);
      await res.arrayBuffer();
    };

    const order = shuffled(parts, 7);
    const wrong = order[3];
    const cut = order[10];
    // First attempt of `wrong`: right length, wrong bytes; it is re-sent at the end.
    await send(wrong, bytesAt(SEED + 1, range(wrong).offset, range(wrong).length));
    // An attempt at `cut` that dies after 3 MiB: the client aborts the request.
    const abort = new AbortController();
    const partial = Readable.toWeb(dataStream(SEED, range(cut).offset, 3 * 1024 * 1024)) as ReadableStream;
    const cutOff = fetch(`${s.url}${base}/${id}/part/${cut}`, {
      method: 'PUT',
      body: partial,
      duplex: 'half',
      signal: abort.signal,
    } as RequestInit);
    setTimeout(() => abort.abort(), 200);
    await cutOff.then((r) => r.arrayBuffer()).catch(() => {});

    const queue = order.filter((n) => n !== wrong);
    const workers = Array.from({ length: 4 }, async () => {
      for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
        await send(n, bytesAt(SEED, range(n).offset, range(n).length));
      }
    });
    await Promise.all(workers);
    await send(wrong, bytesAt(SEED, range(wrong).offset, range(wrong).length));

    const status = await api(s.url, 'GET', `${base}/${id}/status`);
    expect(status.json.uploaded_parts).toEqual(parts);
    expect(status.json.total_uploaded_bytes).toBe(SIZE);

    const done = await api(s.url, 'POST', `${base}/${id}/complete`);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ artifact_id: expected, size: SIZE, tag: 'v1', deduplicated: false });

    const res = await fetch(`${s.url}/api/v1/project/big/blobs/+/v1`);
    expect(res.headers.get('content-length')).toBe(String(SIZE));
    expect(await sha256Of(res.body as unknown as AsyncIterable<Uint8Array>)).toBe(expected);

    const tail = await fetch(`${s.url}/api/v1/project/big/blobs/+/v1`, {
      headers: { range: 'bytes=-100000' },
    });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytesAt(SEED, SIZE - 100_000, 100_000))).toBe(true);
  });
});
