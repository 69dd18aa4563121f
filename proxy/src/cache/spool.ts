import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { SpoolWindow } from './spool-window.ts';

/** Bytes read per reader step; also each reader's buffer size, so memory stays bounded per client. */
const readChunk = 256 * 1024;
/** The newest bytes kept in memory, so readers keeping up never touch the file. */
const defaultWindowBytes = 2 * 1024 * 1024;
/** Window chunks smaller than this are joined before they are handed to a reader. */
const joinBelow = 64 * 1024;
/** Received bytes not yet on disk before the writer pushes back on the upstream. */
const maxUnflushedBytes = 2 * 1024 * 1024;

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
 * Readers that keep up are served from the newest chunks, held in memory (a
 * bounded window), without a copy; only readers lagging further behind read
 * the file back. Disk writes are batched (writev) and run behind the readers:
 * the upstream is only held back when more than `maxUnflushedBytes` wait for
 * the disk. Memory per spool: window + unflushed bytes + one chunk per reader.
 *
 * Not safe for concurrent writers: one `writable()` stream per spool.
 */
export class Spool {
  private readonly handle: FileHandle;
  /** Bytes received (readable); the file may lag by the write in flight. */
  private size = 0;
  /** Bytes on disk. */
  private flushed = 0;
  /** The newest chunks, ending at `size`. */
  private readonly window: SpoolWindow;
  /** Received, not yet handed to the disk; and the write in flight, if any. */
  private pending: Buffer[] = [];
  private diskBusy = false;
  private diskError?: Error;
  /** The writer's callback held back until the disk catches up. */
  private onDrain?: (err?: Error) => void;
  private current: SpoolState = 'writing';
  private failure?: Error;
  private refs = 1;
  private closed = false;
  private waiters = new Set<() => void>();

  private constructor(handle: FileHandle, windowBytes: number) {
    this.handle = handle;
    this.window = new SpoolWindow(windowBytes);
  }

  /**
   * Create an anonymous spool file in `dir` (created if missing), or, with
   * `at`, a named one at that path (its directory must exist), which is kept
   * after the spool closes: the caller then owns it (see `persist`).
   * The caller holds one reference.
   */
  static async create(dir: string, opts: { windowBytes?: number; at?: string } = {}): Promise<Spool> {
    if (!opts.at) await mkdir(dir, { recursive: true });
    const path = opts.at ?? join(dir, `spool-${randomUUID()}`);
    const handle = await open(path, 'wx+', 0o600);
    if (!opts.at) await unlink(path).catch(() => {});
    return new Spool(handle, opts.windowBytes ?? defaultWindowBytes);
  }

  /**
   * Wait until every byte written is on the file, then fsync it: a named
   * spool can then be published by rename. Call before releasing the
   * last reference; rejects with the disk error, if one happened.
   */
  async persist(): Promise<void> {
    while (this.diskBusy || this.pending.length > 0) {
      if (this.diskError) throw this.diskError;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
    if (this.diskError) throw this.diskError;
    await this.handle.sync();
  }

  /** Bytes written so far. */
  get written(): number {
    return this.size;
  }

  get state(): SpoolState {
    return this.current;
  }

  /**
   * The stream the fill pipes the body into. Ending it does NOT complete the
   * spool. `onChunk` sees each chunk before any reader can (hash it there: no
   * extra stream stage); throwing from it fails the write.
   */
  writable(opts: { onChunk?: (chunk: Buffer) => void } = {}): Writable {
    return new Writable({
      highWaterMark: readChunk,
      write: (chunk: Buffer, _enc, cb) => {
        if (this.diskError) return cb(this.diskError);
        if (this.current !== 'writing') return cb(new Error(`spool is ${this.current}`));
        try {
          opts.onChunk?.(chunk);
        } catch (err) {
          return cb(err as Error);
        }
        // Readable at once, from memory; the disk copy is for readers that fall behind the window.
        const position = this.size;
        this.size += chunk.length;
        this.window.remember(position, chunk, this.flushed);
        this.pending.push(chunk);
        this.wake();
        this.flush();
        if (this.size - this.flushed <= maxUnflushedBytes) cb();
        else this.onDrain = cb;
      },
    });
  }

  /** Write everything pending in one writev, then whatever arrived meanwhile. */
  private flush(): void {
    if (this.diskBusy || this.pending.length === 0 || this.diskError) return;
    const batch = this.pending;
    this.pending = [];
    this.diskBusy = true;
    writeAllv(this.handle, batch, this.flushed).then(
      (n) => {
        this.flushed += n;
        this.diskBusy = false;
        this.wake();
        if (this.onDrain && this.size - this.flushed <= maxUnflushedBytes) {
          const cb = this.onDrain;
          this.onDrain = undefined;
          cb();
        }
        this.flush();
      },
      (err: Error) => {
        this.diskBusy = false;
        this.diskError = err;
        this.fail(err);
        this.onDrain?.(err);
        this.onDrain = undefined;
        this.wake();
      },
    );
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
   * `fileChunkBytes` sizes the reads of a reader that fell behind the window.
   */
  createReader(
    opts: { start?: number; end?: number; onBytes?: (n: number) => void; fileChunkBytes?: number } = {},
  ): Readable {
    // Window chunks pass uncopied (small ones joined up to `join`); file reads are `fileChunk` at most.
    const join = joinBelow;
    const fileChunk = Math.max(readChunk, opts.fileChunkBytes ?? 0);
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
    const deliver = (buf: Buffer): boolean => {
      pos += buf.length;
      opts.onBytes?.(buf.length);
      return stream.push(buf);
    };
    const stream: Readable = new Readable({
      highWaterMark: fileChunk,
      read: () => {
        if (busy) return;
        // Fast path: whatever the window holds, handed over synchronously.
        for (;;) {
          const now = this.windowStep(pos, stopAt, join);
          if (now === undefined) break;
          if (now === 'end') return void stream.push(null);
          if (!deliver(now)) return;
        }
        busy = true;
        this.next(pos, stopAt, join, fileChunk, () => stream.destroyed).then(
          (step) => {
            busy = false;
            if (stream.destroyed) return;
            if (step === 'end') return void stream.push(null);
            deliver(step);
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

  /**
   * What the window can give at `pos` right now: bytes, `end`, or undefined
   * when the reader must wait, read the file, or see a failure (the slow path).
   */
  private windowStep(pos: number, stopAt: number, join: number): Buffer | 'end' | undefined {
    if (this.current === 'failed') return undefined;
    const complete = this.current === 'complete';
    const limit = Math.min(complete ? this.size : Math.max(0, this.size - 1), stopAt);
    if (pos < limit) return this.window.slice(pos, limit, join);
    return complete ? 'end' : undefined;
  }

  /** The next chunk at `pos`, waiting for the writer while none is available. */
  private async next(
    pos: number,
    stopAt: number,
    join: number,
    fileChunk: number,
    cancelled: () => boolean,
  ): Promise<Buffer | 'end'> {
    for (;;) {
      const step = await this.step(pos, stopAt, join, fileChunk);
      if (step !== 'wait') return step;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
      if (cancelled()) return 'end';
    }
  }

  private async step(
    pos: number,
    stopAt: number,
    join: number,
    fileChunk: number,
  ): Promise<Buffer | 'wait' | 'end'> {
    if (this.current === 'failed') throw this.failure;
    const complete = this.current === 'complete';
    const available = complete ? this.size : Math.max(0, this.size - 1);
    const limit = Math.min(available, stopAt);
    if (pos < limit) {
      const cached = this.window.slice(pos, limit, join);
      if (cached) return cached;
      // Behind the window: from the file, never past what is on disk.
      if (this.diskError) throw this.diskError;
      const want = Math.min(fileChunk, limit - pos, this.flushed - pos);
      if (want <= 0) return 'wait';
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

/** writev `bufs` at `position`, finishing any partial write; resolves with the bytes written. */
async function writeAllv(handle: FileHandle, bufs: Buffer[], position: number): Promise<number> {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  let { bytesWritten: done } = await handle.writev(bufs, position);
  if (done < total) {
    const rest = Buffer.concat(bufs).subarray(done);
    for (let off = 0; off < rest.length; ) {
      const { bytesWritten } = await handle.write(rest, off, rest.length - off, position + done + off);
      off += bytesWritten;
    }
    done = total;
  }
  return done;
}
