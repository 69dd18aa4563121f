/** Typed storage errors. Every one names the key and the backend that raised it. */
export class StorageError extends Error {
  readonly key: string;
  backend: string;
  constructor(message: string, opts: { key: string; backend: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'StorageError';
    this.key = opts.key;
    this.backend = opts.backend;
  }
}

export class NotFoundError extends StorageError {
  /** `detail` names what is missing when it is not the object itself, e.g. `upload abc part 3`. */
  constructor(opts: { key: string; backend: string; detail?: string }) {
    super(`${opts.backend}: not found: ${opts.key}${opts.detail ? ` (${opts.detail})` : ''}`, opts);
    this.name = 'NotFoundError';
  }
}

export class InvalidKeyError extends StorageError {
  constructor(opts: { key: string; backend: string; reason: string }) {
    super(`${opts.backend}: invalid key (${opts.reason}): ${JSON.stringify(opts.key)}`, opts);
    this.name = 'InvalidKeyError';
  }
}

export class DigestMismatchError extends StorageError {
  readonly expected: string;
  readonly actual: string;
  constructor(opts: { key: string; backend: string; expected: string; actual: string }) {
    super(
      `${opts.backend}: sha256 mismatch for ${opts.key}: expected ${opts.expected}, got ${opts.actual}`,
      opts,
    );
    this.name = 'DigestMismatchError';
    this.expected = opts.expected;
    this.actual = opts.actual;
  }
}

export class RangeNotSatisfiableError extends StorageError {
  readonly size: number;
  constructor(opts: { key: string; backend: string; size: number }) {
    super(`${opts.backend}: range not satisfiable for ${opts.key} (size ${opts.size})`, opts);
    this.name = 'RangeNotSatisfiableError';
    this.size = opts.size;
  }
}

/**
 * A request the store refuses before touching data: a negative or inverted byte
 * range, a bad part number, a body whose length differs from the declared size,
 * or a multipart completion that breaks S3's rules (parts not ascending, a part
 * other than the last smaller than `MIN_PART_SIZE`). Maps to HTTP 400.
 */
export class InvalidArgumentError extends StorageError {
  readonly reason: string;
  constructor(opts: { key: string; backend: string; reason: string }) {
    super(`${opts.backend}: invalid argument for ${opts.key}: ${opts.reason}`, opts);
    this.name = 'InvalidArgumentError';
    this.reason = opts.reason;
  }
}
