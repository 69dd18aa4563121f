import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('Spool', () => {
  it('leaves no file in the directory, even while open', async () => {
    const spool = await Spool.create(dir);
    expect(await readdir(dir)).toEqual([]);
    spool.complete();
    spool.release();
  });

  it('with `at`, keeps a named file that persist() makes whole on disk', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    const path = join(dir, 'named');
    const spool = await Spool.create(dir, { at: path, windowBytes: 256 * 1024 });
    const reader = collect(spool.createReader());
    await pipeline(Readable.from(chunksOf(data, 100_000)), spool.writable());
    spool.complete();
    await spool.persist();
    expect(sha(await readFile(path))).toBe(sha(data));
    expect(sha(await reader)).toBe(sha(data));
    spool.release();
    expect(await readdir(dir)).toEqual(['named']);
  });

  it('serves identical bytes to readers that join early, late and after completion', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const spool = await Spool.create(dir);
    const early = collect(spool.createReader());
    const writing = pipeline(Readable.from(chunksOf(data, 100_000)), spool.writable());
    await tick();
    const late = collect(spool.createReader());
    await writing;
    spool.complete();
    const after = collect(spool.createReader());
    for (const got of await Promise.all([early, late, after])) expect(sha(got)).toBe(sha(data));
    spool.release();
  });

  it('holds back the last byte until the content is declared complete', async () => {
    const spool = await Spool.create(dir);
    const received: number[] = [];
    const reader = spool.createReader();
    reader.on('data', (c: Buffer) => received.push(c.length));
    const ended = new Promise((r) => reader.once('end', r));
    const w = spool.writable();
    await new Promise<void>((r) => w.end(Buffer.alloc(1000), r));
    await tick();
    expect(received.reduce((a, b) => a + b, 0)).toBe(999);
    spool.complete();
    await ended;
    expect(received.reduce((a, b) => a + b, 0)).toBe(1000);
    spool.release();
  });

  it('errors every reader, waiting or new, when the fill fails', async () => {
    const spool = await Spool.create(dir);
    const w = spool.writable();
    w.write(Buffer.alloc(5000));
    const waiting = collect(spool.createReader());
    await tick();
    spool.fail(new Error('upstream reset'));
    await expect(waiting).rejects.toThrow('upstream reset');
    await expect(collect(spool.createReader())).rejects.toThrow('upstream reset');
    await expect(spool.settled()).rejects.toThrow('upstream reset');
    spool.release();
  });

  it('serves a byte range, waiting for it to arrive', async () => {
    const data = randomBytes(500_000);
    const spool = await Spool.create(dir);
    const ranged = collect(spool.createReader({ start: 1000, end: 399_999 }));
    await pipeline(Readable.from(chunksOf(data, 7000)), spool.writable());
    spool.complete();
    expect((await ranged).equals(data.subarray(1000, 400_000))).toBe(true);
    spool.release();
  });

  it('does not let a stalled reader hold up the writer or another reader', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const spool = await Spool.create(dir);
    const stalled = spool.createReader();
    stalled.pause();
    const fast = collect(spool.createReader());
    await pipeline(Readable.from(chunksOf(data, 64 * 1024)), spool.writable());
    spool.complete();
    expect(sha(await fast)).toBe(sha(data));
    // The stalled reader buffered at most a chunk or two, not the body.
    expect(stalled.readableLength).toBeLessThanOrEqual(512 * 1024);
    expect(sha(await collect(stalled))).toBe(sha(data));
    spool.release();
  });

  it('keeps serving a reader that outlives the creator reference', async () => {
    const data = randomBytes(100_000);
    const spool = await Spool.create(dir);
    await pipeline(Readable.from([data]), spool.writable());
    spool.complete();
    const reader = spool.createReader();
    spool.release();
    expect((await collect(reader)).equals(data)).toBe(true);
    expect(() => spool.createReader()).toThrow(/closed/);
  });
});

function* chunksOf(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
