import type { Readable } from 'node:stream';

/**
 * Pull exact byte counts out of a stream. Holds at most one pending chunk plus
 * what the caller asked for, so memory stays bounded by the largest `read`.
 */
export class StreamReader {
  private readonly iter: AsyncIterator<Buffer>;
  private readonly stream: Readable;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(stream: Readable) {
    this.stream = stream;
    this.iter = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Up to `n` bytes; fewer only at the end of the stream (empty buffer at EOF). */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (this.pending.length === 0 && !(await this.fill())) break;
      const take = this.pending.subarray(0, n - have);
      this.pending = this.pending.subarray(take.length);
      parts.push(take);
      have += take.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
  }

  /** Discard `n` bytes. Returns how many were actually skipped (less at EOF). */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill())) break;
      const take = Math.min(left, this.pending.length);
      this.pending = this.pending.subarray(take);
      left -= take;
    }
    return n - left;
  }

  /** Stop reading and release the underlying stream. */
  close(): void {
    this.stream.destroy();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iter.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.pending = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    return true;
  }
}
