/**
 * Test data for the conformance suite: deterministic pseudo-random bytes that
 * can be produced as a stream of any length without holding it in memory
 * (AES-CTR over zeros, so it is fast and differs at every offset, which makes
 * swapped or repeated chunks visible to a digest).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const KiB = 1024;
export const MiB = 1024 * KiB;

const CHUNK = MiB;
const ZEROS = Buffer.alloc(CHUNK);

function* patternChunks(size: number, seed: number): Generator<Buffer> {
  const key = createHash('sha256').update(`orchard-conformance-${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  for (let left = size; left > 0; left -= CHUNK)
    yield cipher.update(ZEROS.subarray(0, Math.min(CHUNK, left)));
}

/** `size` bytes of the pattern for `seed`, as a stream (never one big buffer). */
export function patternStream(size: number, seed: number): Readable {
  return Readable.from(patternChunks(size, seed), { objectMode: false });
}

/** The same bytes as one buffer; for sizes a test can afford to hold. */
export function pattern(size: number, seed: number): Buffer {
  return Buffer.concat([...patternChunks(size, seed)]);
}

export function sha256Of(...buffers: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const b of buffers) h.update(b);
  return h.digest('hex');
}

/** sha256 of `patternStream(size, seed)`, computed chunk by chunk. */
export function patternSha256(size: number, seed: number): string {
  const h = createHash('sha256');
  for (const chunk of patternChunks(size, seed)) h.update(chunk);
  return h.digest('hex');
}

/** Drain a stream, returning its length and sha256. */
export async function hashStream(body: Readable): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    h.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: h.digest('hex') };
}

export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A body that delivers `goodBytes` of the pattern and then errors, as a dropped client connection does. */
export function failingStream(goodBytes: number, seed: number): Readable {
  const chunks = patternChunks(goodBytes, seed);
  return new Readable({
    read() {
      const next = chunks.next();
      if (next.done) this.destroy(new Error('conformance: body failed midway'));
      else this.push(next.value);
    },
  });
}

/** The pattern, delivered one small chunk per macrotask, so a write stays in flight while other work runs. */
export function slowStream(size: number, seed: number, chunk = 64 * KiB): Readable {
  const data = pattern(size, seed);
  let offset = 0;
  return new Readable({
    read() {
      setTimeout(() => {
        if (offset >= data.length) {
          this.push(null);
          return;
        }
        this.push(data.subarray(offset, offset + chunk));
        offset += chunk;
      }, 1);
    },
  });
}

export async function collectAsync<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of it) out.push(item);
  return out;
}
