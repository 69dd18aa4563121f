import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';

/** Bytes read per reader step; also each reader's buffer size, so memory stays bounded per client. */
const readChunk = 256 * 1024;

export type SpoolState = 'writing' | 'complete' | 'failed';

/**
 * A spool is the temporary file one cache fill streams into, read back by any
 * number of readers (the clients and the BlobStore writer), each at its own
 * pace. It decouples them: a slow client never slows the upstream or the other
 * readers, and memory stays bounded (one chunk per reader), whatever the size.
 *
 * The file is unlinked right after it is opened, so a crash leaves nothing
 * behind; the open handle keeps it alive until the last reference is released.
 *
 * Readers never end before the writer declares the content `complete` (after
 * integrity checks), and they hold back the last byte until then: a client
 * can never receive a whole body, Content-Length and all, that later fails
 * verification. On `fail`, every reader errors and the HTTP layer aborts.
 *
 * Not safe for concurrent writers: one `writable()` stream per spool.
 */
export class Spool {
  private readonly handle: FileHandle;
  private size = 0;
  private current: SpoolState = 'writing';
  private failure?: Error;
  private refs = 1;
  private closed = false;
  private waiters = new Set<() => void>();

  private constructor(handle: FileHandle) {
    this.handle = handle;
  }

  /** Create an anonymous spool file in `dir` (created if missing). The caller holds one reference. */
  static async create(dir: string): Promise<Spool> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, `spool-${randomUUID()}`);
    const handle = await open(path, 'wx+', 0o600);
    await unlink(path).catch(() => {});
    return new Spool(handle);
  }

  /** Bytes written so far. */
  get written(): number {
    return this.size;
  }

  get state(): SpoolState {
    return this.current;
  }

  /** The stream the fill pipes the (verified-so-far) body into. Ending it does NOT complete the spool. */
  writable(): Writable {
    return new Writable({
      highWaterMark: readChunk,
      write: (chunk: Buffer, _enc, cb) => {
        if (this.current !== 'writing') return cb(new Error(`spool is ${this.current}`));
        this.handle.write(chunk, 0, chunk.length, this.size).then(({ bytesWritten }) => {
          this.size += bytesWritten;
          this.wake();
          cb();
        }, cb);
      },
    });
  }

  /** Declare the content whole and verified: readers may deliver the last byte and end. */
  complete(): void {
    if (this.current !== 'writing') return;
    this.current = 'complete';
    this.wake();
  }

  /** Abort: every reader, current and future, errors with `err`. */
  fail(err: Error): void {
    if (this.current !== 'writing') return;
    this.current = 'failed';
    this.failure = err;
    this.wake();
  }

  /** Resolves when the spool is complete; rejects with the failure. */
  settled(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.current === 'complete') return resolve();
        if (this.current === 'failed') return reject(this.failure);
        this.waiters.add(check);
      };
      check();
    });
  }

  /**
   * A stream of bytes `start`..`end` (inclusive; default: to the end), which
   * waits for the writer as needed. Takes a reference that is released when
   * the stream ends or is destroyed. `onBytes` sees every chunk delivered.
   */
  createReader(opts: { start?: number; end?: number; onBytes?: (n: number) => void } = {}): Readable {
    if (this.closed) throw new Error('spool is closed');
    this.refs++;
    let pos = opts.start ?? 0;
    const stopAt = opts.end === undefined ? Number.POSITIVE_INFINITY : opts.end + 1;
    let busy = false;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.release();
    };
    const stream: Readable = new Readable({
      highWaterMark: readChunk,
      read: () => {
        if (busy) return;
        busy = true;
        this.next(pos, stopAt, () => stream.destroyed).then(
          (step) => {
            busy = false;
            if (stream.destroyed) return;
            if (step === 'end') return void stream.push(null);
            pos += step.length;
            opts.onBytes?.(step.length);
            stream.push(step);
          },
          (err: Error) => {
            busy = false;
            stream.destroy(err);
          },
        );
      },
      destroy: (err, cb) => {
        release();
        cb(err);
      },
    });
    stream.once('end', release);
    return stream;
  }

  /** Drop a reference; the file is closed when the last one goes. */
  release(): void {
    if (--this.refs > 0 || this.closed) return;
    this.closed = true;
    if (this.current === 'writing') this.fail(new Error('spool released while writing'));
    void this.handle.close().catch(() => {});
  }

  /** The next chunk at `pos`, waiting for the writer while none is available. */
  private async next(pos: number, stopAt: number, cancelled: () => boolean): Promise<Buffer | 'end'> {
    for (;;) {
      const step = await this.step(pos, stopAt);
      if (step !== 'wait') return step;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
      if (cancelled()) return 'end';
    }
  }

  private async step(pos: number, stopAt: number): Promise<Buffer | 'wait' | 'end'> {
    if (this.current === 'failed') throw this.failure;
    const complete = this.current === 'complete';
    const available = complete ? this.size : Math.max(0, this.size - 1);
    const limit = Math.min(available, stopAt);
    if (pos < limit) {
      const want = Math.min(readChunk, limit - pos);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await this.handle.read(buf, 0, want, pos);
      if (bytesRead === 0) throw new Error('spool: unexpected end of file');
      return bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
    return complete ? 'end' : 'wait';
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}
