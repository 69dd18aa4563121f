import type { Readable } from 'node:stream';

/**
 * Format metadata extraction for hosted uploads. Each package format is one
 * `MetadataExtractor`, registered by name in `index.ts`. Extractors read only
 * the bounded parts of an artifact they need (an ar member, an rpm header, a
 * zip central directory, the first tar entries) through an `ArtifactSource`,
 * and every byte, entry and millisecond they spend is charged to one `Budget`.
 *
 * Contract for extractors: never write to disk, never trust sizes or paths
 * from the archive, throw `ExtractError` (or any error) for corrupt input.
 * The runner (`run.ts`) turns every failure into `{"format", "error"}` so a
 * hostile archive never fails an upload.
 */
export interface MetadataExtractor {
  /** Format name, also the `format` field of the metadata it returns: `deb`, `rpm`, … */
  readonly name: string;
  /**
   * Cheap claim from the filename, the package's declared format and the
   * first bytes. Higher wins; 0 means "not mine". Must not do I/O.
   */
  claim(probe: Probe): number;
  /**
   * Extract the metadata. Return `undefined` when the content turns out not to
   * be this format after all; the runner then tries the next claimant.
   */
  extract(source: ArtifactSource, ctx: ExtractContext): Promise<FormatMetadata | undefined>;
}

export interface Probe {
  /** Original filename as uploaded, lower-cased; may be empty. */
  filename: string;
  /** The package's declared format (`npm`, `helm`, `deb`, …) when known. */
  declaredFormat?: string;
  /** Up to the first 512 bytes of the artifact. */
  head: Buffer;
}

/** Random access to one artifact. Implementations: a BlobStore key, a Buffer, a file. */
export interface ArtifactSource {
  readonly size: number;
  /** Original filename (not lower-cased); may be empty. */
  readonly filename: string;
  /** Bytes [start, start+length), fewer at the end of the artifact. */
  read(start: number, length: number): Promise<Buffer>;
  /** Stream bytes [start, end) (end defaults to the artifact size). */
  open(start?: number, end?: number): Promise<Readable>;
}

/** What an extractor returns: a flat-ish JSON object; `format` is filled in by the runner. */
export type FormatMetadata = Record<string, unknown>;

export interface ExtractLimits {
  /** Raw artifact bytes an extraction may read (headers, members, central directory). */
  maxReadBytes: number;
  /** Decompressed bytes an extraction may produce across all streams. */
  maxInflateBytes: number;
  /** Archive entries (tar headers, zip directory records) an extraction may visit. */
  maxEntries: number;
  /** Largest single file (control, METADATA, package.json…) read into memory. */
  maxFileBytes: number;
  /** Wall-clock budget for one artifact. */
  timeoutMs: number;
}

export const defaultLimits: ExtractLimits = {
  maxReadBytes: 64 * 1024 * 1024,
  maxInflateBytes: 64 * 1024 * 1024,
  maxEntries: 100_000,
  maxFileBytes: 1024 * 1024,
  timeoutMs: 10_000,
};

export interface ExtractContext {
  readonly limits: ExtractLimits;
  readonly budget: Budget;
  /** Aborted when the time budget runs out; streams opened by helpers honour it. */
  readonly signal: AbortSignal;
  /** The package's declared format, when known: a declared format gets a full scan, not a probe. */
  readonly declaredFormat?: string;
}

/**
 * Thrown for corrupt, hostile or over-budget input. Its message ends up in
 * `format_metadata.error`. `kind` tells a spent budget (`limit`) from bad
 * bytes (`corrupt`), so a bounded probe can give up quietly on the former.
 */
export class ExtractError extends Error {
  readonly kind: 'limit' | 'corrupt';
  constructor(message: string, kind: 'limit' | 'corrupt' = 'corrupt') {
    super(message);
    this.name = 'ExtractError';
    this.kind = kind;
  }
}

/** Running totals for one extraction; every helper charges it and it throws when a limit is passed. */
export class Budget {
  readBytes = 0;
  inflatedBytes = 0;
  entries = 0;
  private readonly limits: ExtractLimits;
  private readonly signal: AbortSignal;

  constructor(limits: ExtractLimits, signal: AbortSignal) {
    this.limits = limits;
    this.signal = signal;
  }

  /**
   * A fresh budget no larger than this one's limits, for a probe that may give
   * up quietly. Its charges are not added here: a failed probe must not starve
   * the next claimant. Work stays bounded by (claimants × window) and by time.
   */
  scoped(window: Partial<ExtractLimits>): Budget {
    const limits = { ...this.limits };
    for (const [k, v] of Object.entries(window) as [keyof ExtractLimits, number][])
      limits[k] = Math.min(limits[k], v);
    return new Budget(limits, this.signal);
  }

  /** The limits this budget enforces. */
  get effectiveLimits(): ExtractLimits {
    return this.limits;
  }

  chargeRead(n: number): void {
    this.readBytes += n;
    this.check();
    if (this.readBytes > this.limits.maxReadBytes) {
      throw new ExtractError(`read limit exceeded (${this.limits.maxReadBytes} bytes)`, 'limit');
    }
  }

  chargeInflate(n: number): void {
    this.inflatedBytes += n;
    this.check();
    if (this.inflatedBytes > this.limits.maxInflateBytes) {
      throw new ExtractError(`decompression limit exceeded (${this.limits.maxInflateBytes} bytes)`, 'limit');
    }
  }

  chargeEntry(): void {
    this.entries += 1;
    if (this.entries % 256 === 0) this.check();
    if (this.entries > this.limits.maxEntries) {
      throw new ExtractError(`entry limit exceeded (${this.limits.maxEntries} entries)`, 'limit');
    }
  }

  /** Throw when the time budget is spent. */
  check(): void {
    if (this.signal.aborted)
      throw new ExtractError(`time limit exceeded (${this.limits.timeoutMs} ms)`, 'limit');
  }
}
