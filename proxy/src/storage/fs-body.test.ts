import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBody } from './fs-body.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let dir: string;
let file: string;
const data = randomBytes(5 * 1024 * 1024 + 333);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fs-body-'));
  file = join(dir, 'blob');
  await writeFile(file, data);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A server that pipes a FileBody of `range` into each response; `bodies` collects them. */
async function serve(range: [number, number], observe?: (b: FileBody) => void) {
  const bodies: FileBody[] = [];
  const errors: Error[] = [];
  const server: Server = createServer(async (_req, res) => {
    const body = new FileBody(await open(file, 'r'), range[0], range[1]);
    bodies.push(body);
    // Koa listens for a body's errors the same way.
    body.on('error', (err) => errors.push(err));
    observe?.(body);
    res.writeHead(200, { 'content-length': range[1] - range[0] + 1 });
    body.pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, bodies, errors, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function fetchAll(url: string, stopAfter?: number): Promise<{ body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    get(url, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
        if (stopAfter !== undefined && n >= stopAfter) res.destroy();
      });
      res.on('end', () => resolve({ body: Buffer.concat(chunks), complete: true }));
      res.on('close', () => resolve({ body: Buffer.concat(chunks), complete: res.complete }));
    }).on('error', reject);
  });
}

const closed = (b: FileBody) => new Promise<void>((r) => (b.closed ? r() : b.once('close', () => r())));

describe('FileBody', () => {
  it('reads like any Readable, whole and by range', async () => {
    const whole: Buffer[] = [];
    for await (const c of new FileBody(await open(file, 'r'), 0, data.length - 1)) whole.push(c as Buffer);
    expect(sha(Buffer.concat(whole))).toBe(sha(data));
    const part: Buffer[] = [];
    for await (const c of new FileBody(await open(file, 'r'), 1000, 2_000_999)) part.push(c as Buffer);
    expect(Buffer.concat(part).equals(data.subarray(1000, 2_001_000))).toBe(true);
  });

  it('piped into a response sends every byte, lets listeners count them, and closes the file', async () => {
    let counted = 0;
    const s = await serve([0, data.length - 1], (b) => {
      b.pause();
      b.on('data', (c: Buffer) => {
        counted += c.length;
      });
    });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await fetchAll(s.url);
        expect(r.complete).toBe(true);
        expect(sha(r.body)).toBe(sha(data));
      }
      expect(counted).toBe(3 * data.length);
      await Promise.all(s.bodies.map(closed));
    } finally {
      await s.close();
    }
  });

  it('piped with a range sends exactly that range', async () => {
    const s = await serve([4096, 3 * 1024 * 1024]);
    try {
      const r = await fetchAll(s.url);
      expect(r.body.equals(data.subarray(4096, 3 * 1024 * 1024 + 1))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('stops and closes the file when the client goes away mid-body', async () => {
    const s = await serve([0, data.length - 1]);
    try {
      const r = await fetchAll(s.url, 1024 * 1024);
      expect(r.complete).toBe(false);
      await closed(s.bodies[0]!);
    } finally {
      await s.close();
    }
  });

  it('cuts the response (never a clean end) when the file is shorter than promised', async () => {
    const s = await serve([0, data.length + 4 * 1024 * 1024]);
    try {
      const r = await fetchAll(s.url);
      expect(r.complete).toBe(false);
      expect(r.body.length).toBe(data.length);
      await closed(s.bodies[0]!);
      expect(s.errors.map((e) => e.message)).toEqual(['the file ended before its size']);
    } finally {
      await s.close();
    }
  });
});
