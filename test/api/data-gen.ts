// Deterministic test data made in bounded chunks: byte i of a stream with a
// given seed is always the same, so a 1 GiB or 5 GiB body can be sent,
// re-sent and verified without ever holding it in memory.
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const BLOCK = 1024 * 1024;

/**
 * `length` bytes starting at `offset` of the stream with this seed: the
 * AES-128-CTR keystream (hardware-accelerated, ~GB/s), whose counter gives
 * random access in 16-byte blocks, so any slice agrees with the whole.
 */
export function bytesAt(seed: number, offset: number, length: number): Buffer {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0, 0);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(Math.floor(offset / 16)), 8);
  const skip = offset % 16;
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return cipher.update(Buffer.alloc(skip + length)).subarray(skip);
}

/** A stream of `length` bytes from `offset`, produced one MiB at a time. */
export function dataStream(seed: number, offset: number, length: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= length) {
        this.push(null);
        return;
      }
      const n = Math.min(BLOCK, length - sent);
      this.push(bytesAt(seed, offset + sent, n));
      sent += n;
    },
  });
}

/** sha256 of a stream, consumed chunk by chunk. */
export async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}
