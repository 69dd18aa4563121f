import { createHash } from 'node:crypto';
import { get, type IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Of, TestUpstream } from '../upstreams/server.ts';
import { type CacheProxy, http, remoteDoc, startCacheProxy } from './harness.ts';

// Stream-through (issue 4, item 3): bytes reach the client before the
// download ends, a slow client slows neither the fill nor other clients, a
// client that leaves does not stop the fill, an upstream failure aborts every
// attached client.

const upstream = new TestUpstream();
let proxy: CacheProxy;

beforeAll(async () => {
  await upstream.start();
  proxy = await startCacheProxy({
    blobs: 'fs',
    config: [remoteDoc('files', { type: 'remote', package: 'generic', baseUrl: upstream.url })],
  });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

const url = (path: string) => `${proxy.url}/api/v1/remote/files/${path}`;

/** Open a GET and hand back the response without reading it. */
function open(path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url(path), { agent: false }, resolve).on('error', reject));
}

async function drain(res: IncomingMessage): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of res) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

describe('stream-through', () => {
  it('delivers the first bytes before the upstream has sent the whole body', async () => {
    const file = { size: 2 * 1024 * 1024, seed: 11 };
    upstream.set('/slow.bin', { body: file });
    upstream.behave('/slow.bin', { kind: 'slow', bytesPerSecond: 1024 * 1024 }, 1);
    let firstByteAt = 0;
    const r = await http(url('slow.bin'), { onData: () => (firstByteAt ||= performance.now()) });
    expect(r.status).toBe(200);
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(await sha256Of(file));
    const sent = upstream.requests.find((q) => q.path === '/slow.bin')!;
    // The upstream needs ~2 s for the body; the client had bytes well before it was done.
    expect(sent.finishedAt).toBeDefined();
    expect(firstByteAt).toBeLessThan(sent.finishedAt! - 500);
  });

  it('lets a stalled client neither hold up the fill nor another client', async () => {
    const file = { size: 24 * 1024 * 1024, seed: 12 };
    upstream.set('/big.bin', { body: file });
    const stalled = await open('big.bin');
    stalled.pause();
    const other = await drain(await open('big.bin'));
    expect(other.sha256).toBe(await sha256Of(file));
    // The fill committed while the stalled client had read (almost) nothing.
    await proxy.engine.idle();
    expect((await proxy.engine.index.get('files', 'big.bin'))?.size).toBe(file.size);
    expect(stalled.readableLength).toBeLessThan(file.size / 2);
    const late = await drain(stalled);
    expect(late.sha256).toBe(await sha256Of(file));
    expect(upstream.count('/big.bin')).toBe(1);
  });

  it('completes and commits the fill when the only client disconnects', async () => {
    const file = { size: 8 * 1024 * 1024, seed: 13 };
    upstream.set('/left.bin', { body: file });
    upstream.behave('/left.bin', { kind: 'slow', bytesPerSecond: 16 * 1024 * 1024 }, 1);
    const res = await open('left.bin');
    await new Promise((resolve) => res.once('data', resolve));
    res.destroy();
    await proxy.engine.idle();
    const entry = await proxy.engine.index.get('files', 'left.bin');
    expect(entry?.digest).toBe(await sha256Of(file));
    const hit = await http(url('left.bin'));
    expect(hit.headers['x-artifact-source']).toBe('cache');
    expect(upstream.count('/left.bin')).toBe(1);
  });

  it('aborts every attached client when the upstream fails mid-body', async () => {
    upstream.set('/reset.bin', { body: { size: 4 * 1024 * 1024, seed: 14 } });
    upstream.behave('/reset.bin', { kind: 'reset', after: 3 * 1024 * 1024 }, 1);
    const results = await Promise.all([1, 2, 3].map(() => http(url('reset.bin'))));
    for (const r of results) {
      expect(r.aborted).toBeDefined();
      expect(r.body.length).toBeLessThan(4 * 1024 * 1024);
    }
    await proxy.engine.idle();
    expect(await proxy.engine.index.get('files', 'reset.bin')).toBeUndefined();
    expect(upstream.count('/reset.bin')).toBe(1);
  });

  it('serves a Range request while the body is still filling, from the spool, and once cached', async () => {
    const file = { size: 1024 * 1024, seed: 17 };
    upstream.set('/ranged.bin', { body: file });
    upstream.behave('/ranged.bin', { kind: 'slow', bytesPerSecond: 2 * 1024 * 1024 }, 1);
    const whole = http(url('ranged.bin'));
    await new Promise((r) => setTimeout(r, 100));
    // Joins the fill in flight: a range of the middle, and a suffix.
    const [mid, tail] = await Promise.all([
      http(url('ranged.bin'), { headers: { range: 'bytes=1000-1999' } }),
      http(url('ranged.bin'), { headers: { range: 'bytes=-10' } }),
    ]);
    const full = (await whole).body;
    expect(full.length).toBe(file.size);
    expect(mid.status).toBe(206);
    expect(mid.headers['x-artifact-source']).toBe('remote');
    expect(mid.headers['content-range']).toBe(`bytes 1000-1999/${file.size}`);
    expect(mid.body.equals(full.subarray(1000, 2000))).toBe(true);
    expect(tail.status).toBe(206);
    expect(tail.body.equals(full.subarray(file.size - 10))).toBe(true);
    expect(upstream.count('/ranged.bin')).toBe(1);
    const unsatisfiable = await http(url('ranged.bin'), { headers: { range: `bytes=${file.size}-` } });
    expect(unsatisfiable.status).toBe(416);
  });

  it('serves a HEAD miss from the response head and still caches the body', async () => {
    upstream.set('/head.bin', { body: { size: 300_000, seed: 15 } });
    const r = await http(url('head.bin'), { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('300000');
    expect(r.body.length).toBe(0);
    await proxy.engine.idle();
    expect((await proxy.engine.index.get('files', 'head.bin'))?.size).toBe(300_000);
  });

  it('holds a bounded amount of live memory while streaming a large body to a stalled reader', async () => {
    // Live buffers, measured after a forced GC, so garbage awaiting collection does not count.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const file = { size: 256 * 1024 * 1024, seed: 16 };
    upstream.set('/huge.bin', { body: file });
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const timer = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 100);
    const res = await open('huge.bin');
    res.pause();
    await proxy.engine.idle();
    const drained = await drain(res);
    clearInterval(timer);
    expect(drained.size).toBe(file.size);
    // The test upstream, the proxy and the client share this process: the body
    // (256 MiB) buffered anywhere would show; the spool window and a few chunks do not.
    // The bound is half the body, not a few MiB: the same code measured
    // anywhere from 6 to 74 MiB (most likely backing stores V8's concurrent
    // sweeper had not released yet; not proven).
    expect(peak - before).toBeLessThan(128 * 1024 * 1024);
  });
});
