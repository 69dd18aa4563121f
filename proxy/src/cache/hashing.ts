import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { ExpectedDigest } from '../formats/index.ts';

/** The upstream's bytes do not match the digest it published. Nothing may be cached. */
export class IntegrityError extends Error {
  readonly expected: ExpectedDigest;
  readonly actual: string;
  constructor(expected: ExpectedDigest, actual: string) {
    super(`${expected.algorithm} mismatch: expected ${expected.hex}, got ${actual}`);
    this.name = 'IntegrityError';
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Counts bytes and computes sha256 (unless `sha256: false`) plus the expected
 * digest's algorithm, synchronously per chunk; `finish` checks the expected
 * digest. For hot paths that already touch every chunk (the spool writer):
 * no stream stage of its own.
 */
export class Digester {
  private readonly sha?: Hash;
  private readonly other?: Hash;
  private readonly expected?: ExpectedDigest;
  private digest?: string;
  size = 0;

  constructor(opts: { expected?: ExpectedDigest; sha256?: boolean } = {}) {
    this.expected = opts.expected;
    if (opts.sha256 !== false || opts.expected?.algorithm === 'sha256') this.sha = createHash('sha256');
    if (opts.expected && opts.expected.algorithm !== 'sha256')
      this.other = createHash(opts.expected.algorithm);
  }

  update(chunk: Buffer): void {
    this.sha?.update(chunk);
    this.other?.update(chunk);
    this.size += chunk.length;
  }

  /** End the digests; throws IntegrityError when the expected one does not match. Call once. */
  finish(): void {
    this.digest = this.sha?.digest('hex');
    const e = this.expected;
    const actual = e && (this.other ? this.other.digest('hex') : this.digest);
    if (e && actual !== e.hex.toLowerCase()) throw new IntegrityError(e, actual!);
  }

  /** sha256 hex; only after `finish`, and only when computed. */
  get sha256(): string {
    if (!this.digest) throw new Error('digest read before the body ended');
    return this.digest;
  }
}

/**
 * A pass-through Digester: fails at the end of the stream, before anything
 * downstream sees the end, when the expected digest does not match. Bytes
 * flow through untouched and unbuffered.
 */
export class DigestingTransform extends Transform {
  private readonly digester: Digester;
  private readonly onBytes?: (n: number) => void;

  constructor(opts: { expected?: ExpectedDigest; sha256?: boolean; onBytes?: (n: number) => void } = {}) {
    super({ highWaterMark: 256 * 1024 });
    this.digester = new Digester(opts);
    this.onBytes = opts.onBytes;
  }

  get size(): number {
    return this.digester.size;
  }

  /** sha256 hex; only after the stream ended, and only when computed. */
  get sha256(): string {
    return this.digester.sha256;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.digester.update(chunk);
    this.onBytes?.(chunk.length);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.digester.finish();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

/** Check a whole buffer (an index document) against an expected digest. Throws IntegrityError. */
export function verifyBuffer(body: Buffer, expected: ExpectedDigest | undefined): void {
  if (!expected) return;
  const actual = createHash(expected.algorithm).update(body).digest('hex');
  if (actual !== expected.hex.toLowerCase()) throw new IntegrityError(expected, actual);
}

export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
