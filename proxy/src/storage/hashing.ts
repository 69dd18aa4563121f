import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, InvalidArgumentError } from './errors.ts';

/** sha256 of zero bytes. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface HashingOptions {
  /** Fail with `DigestMismatchError` at the end of the stream when the digest differs. */
  expectedSha256?: string;
  /** Fail with `InvalidArgumentError` as soon as the byte count can no longer match. */
  expectedSize?: number;
  /**
   * Withhold the last chunk until the checks above pass. A consumer that sends
   * the bytes somewhere with a declared length (an HTTP PUT with Content-Length)
   * then never receives a complete body for bad data, so the far end never
   * commits it.
   */
  holdBack?: boolean;
  /** Named in the errors raised. */
  key?: string;
  backend?: string;
}

/**
 * A pass-through Transform that counts bytes and computes sha256 on the way.
 * `sha256` and `size` are final once the stream has ended ('end' or 'finish').
 * When `expectedSha256`/`expectedSize` are given the stream errors instead of
 * ending cleanly, so a `pipeline()` built on it rejects with the typed error.
 */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private readonly opts: HashingOptions;
  private pending: Buffer | undefined;
  private bytes = 0;
  private digest: string | undefined;

  constructor(opts: HashingOptions = {}) {
    super();
    this.opts = opts;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.bytes;
  }

  /** Lowercase hex sha256 of everything seen; throws if read before the stream ended. */
  get sha256(): string {
    if (this.digest === undefined) throw new Error('HashingStream: sha256 read before the end of the stream');
    return this.digest;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    const { expectedSize } = this.opts;
    if (expectedSize !== undefined && this.bytes > expectedSize) {
      cb(this.sizeError(`body is longer than the declared ${expectedSize} bytes`));
      return;
    }
    this.hash.update(chunk);
    if (!this.opts.holdBack) {
      cb(null, chunk);
      return;
    }
    const previous = this.pending;
    this.pending = chunk;
    cb(null, previous);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    const { expectedSize, expectedSha256 } = this.opts;
    if (expectedSize !== undefined && this.bytes !== expectedSize) {
      cb(this.sizeError(`body is ${this.bytes} bytes, declared ${expectedSize}`));
      return;
    }
    if (expectedSha256 !== undefined && this.digest !== expectedSha256) {
      cb(
        new DigestMismatchError({
          key: this.opts.key ?? '',
          backend: this.opts.backend ?? '',
          expected: expectedSha256,
          actual: this.digest,
        }),
      );
      return;
    }
    cb(null, this.pending);
  }

  private sizeError(reason: string): InvalidArgumentError {
    return new InvalidArgumentError({ key: this.opts.key ?? '', backend: this.opts.backend ?? '', reason });
  }
}
