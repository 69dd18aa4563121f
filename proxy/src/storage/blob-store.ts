import type { Readable } from 'node:stream';

/**
 * BlobStore is a flat key → bytes store. Every operation streams; no
 * implementation may buffer a whole object in memory (except `memory`, whose
 * whole point is to hold objects in memory).
 *
 * Keys are `/`-separated relative paths. They are validated once, by the
 * wrapping layer in `base.ts`, before any backend sees them.
 *
 * Atomicity: a reader never observes a partial object. `put`, `move` and
 * `completeMultipart` either publish the whole object under the key or leave
 * the key untouched. Concurrent writers of the same key are safe; one of them
 * wins, and because Orchard's keys are content-addressed they write the same bytes.
 */
export interface BlobStore {
  /** Backend name, stamped on errors and metrics: `memory`, `fs`, `s3`. */
  readonly name: string;

  /**
   * Stream `body` into `key`. When `expectedSha256` is given, the digest is
   * computed while streaming and on mismatch `DigestMismatchError` is thrown and
   * nothing becomes visible. A body stream that errors leaves nothing visible.
   * When `size` is given, a body of another length fails with
   * `InvalidArgumentError` and leaves nothing visible. On failure a previous
   * object under `key` stays intact. `body` is consumed or destroyed in every case.
   */
  put(key: string, body: Readable, opts?: PutOptions): Promise<PutResult>;

  /**
   * Open `key` for reading, optionally a byte range. Throws `NotFoundError`
   * when absent and `RangeNotSatisfiableError` when `range.start` is at or past
   * the end (so any range of a zero-length object; read it without a range).
   * A negative start or an end before the start is an `InvalidArgumentError`.
   * The body reflects the object as it was when `get` resolved, even if it is
   * replaced or deleted while the body is being read (fs keeps the open file;
   * S3 serves the version the request hit). Safe to call concurrently with writers.
   */
  get(key: string, opts?: GetOptions): Promise<GetResult>;

  /** Size and modification time, or `undefined` when the key does not exist. */
  stat(key: string): Promise<BlobInfo | undefined>;

  /** Remove `key`. Deleting a missing key is not an error. Never touches other keys sharing a prefix. */
  delete(key: string): Promise<void>;

  /**
   * Atomically publish the object at `from` under `to` and remove `from`.
   * Throws `NotFoundError` when `from` is absent. Overwrites `to`. `to` appears
   * whole or not at all; on S3 (copy, then delete) a crash in between leaves
   * both keys, never neither.
   */
  move(from: string, to: string): Promise<void>;

  /** Every object whose key starts with `prefix` (a plain string prefix, not a glob), in no particular order. */
  list(prefix: string): AsyncIterable<BlobInfo>;

  /**
   * Multipart sessions back resumable uploads. Parts may arrive in any order
   * and be re-sent; the last write of a part number wins. Part numbers are
   * integers from 1 to 10000. Every part except the last must be at least
   * `MIN_PART_SIZE` bytes (S3's rule, applied everywhere so behaviour does not
   * depend on the backend). Nothing is visible under `key` until
   * `completeMultipart` succeeds. Sessions survive a process restart (memory:
   * as long as the store object lives). A session is addressed by both `key`
   * and `uploadId`; every call with an unknown pair throws `NotFoundError`
   * (except abort). Sessions nobody completes or aborts stay until garbage
   * collection removes them.
   */
  createMultipart(key: string): Promise<string>;
  /**
   * Store one part. With `size`, a body of another length fails with
   * `InvalidArgumentError` and the previous content of that part (if any) stays.
   * Different part numbers may be written concurrently.
   */
  putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    opts?: { size?: number },
  ): Promise<PartInfo>;
  /** The session's parts, ascending by part number. */
  listParts(key: string, uploadId: string): Promise<PartInfo[]>;
  /**
   * Concatenate `partNumbers` (strictly ascending, S3's rule; parts not listed
   * are discarded) and publish the result under `key`, replacing any object
   * there, then drop the session. Throws `NotFoundError` for an unknown session
   * or part and `InvalidArgumentError` when a listed part other than the last
   * is smaller than `MIN_PART_SIZE` or the numbers are not ascending.
   */
  completeMultipart(key: string, uploadId: string, partNumbers: number[]): Promise<{ size: number }>;
  /** Drop the session and every part. Aborting an unknown session is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;

  /** Release connections and handles. */
  close(): Promise<void>;

  /**
   * Present only on stores that keep objects as local files (fs): a writer that
   * needs the bytes in a file of its own anyway (the cache's spool) writes
   * that file where the store can adopt it, so the bytes are written once.
   */
  readonly staging?: FileStaging;

  /** Present on stores with leftovers to reap: open multipart sessions, private temp files. Used by garbage collection. */
  readonly maintenance?: StoreMaintenance;
}

/** An open multipart session. */
export interface UploadInfo {
  key: string;
  uploadId: string;
  /** When the session was created. */
  initiated: Date;
}

/** What garbage collection needs beyond the object API. */
export interface StoreMaintenance {
  /** Open multipart sessions whose key starts with `prefix`, in no particular order. */
  listUploads(prefix?: string): AsyncIterable<UploadInfo>;
  /**
   * Remove the backend's private temp files (outside the key space) untouched
   * for `maxAgeMs`: what crashed writers left. Returns how many. Absent when a
   * backend has none (s3, memory).
   */
  removeStaleTemp?(maxAgeMs: number, now?: number): Promise<number>;
}

/**
 * Adopting a file written outside `put`. The writer owns the staging file until
 * `adopt` succeeds, and removes it itself on failure; files left by a crash
 * are removed by the store's temp-file sweep.
 */
export interface FileStaging {
  /** A fresh path on the store's filesystem, in its temp directory (created); no file exists there yet. */
  path(): Promise<string>;
  /**
   * Publish the complete, flushed (fsynced) file at `path` under `key` by
   * rename, atomically like `put`, replacing any object there. `path` is gone
   * afterwards. The caller vouches for the content (Orchard's keys are digests
   * it computed). Throws `NotFoundError` when `path` does not exist.
   */
  adopt(path: string, key: string): Promise<void>;
}

export const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface PutOptions {
  expectedSha256?: string;
  /** Exact length when known; lets backends choose part sizes and reject short bodies. */
  size?: number;
  contentType?: string;
}

export interface PutResult {
  size: number;
  sha256: string;
}

/** Inclusive byte range, as in HTTP. `end` omitted means to the end of the object. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface GetOptions {
  range?: ByteRange;
}

export interface GetResult {
  /** The bytes. The caller must read it to the end or destroy it; it holds a file handle or a connection. */
  body: Readable;
  /** Total size of the object, not of the range. */
  size: number;
  /** The range actually served (end clamped to size-1), when one was asked for. */
  range?: { start: number; end: number };
}

export interface BlobInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface PartInfo {
  partNumber: number;
  size: number;
  etag: string;
}

/** Content-addressed key for a sha256 digest: `blobs/sha256/ab/abcd…`. */
export function blobKey(sha256: string): string {
  return `blobs/sha256/${sha256.slice(0, 2)}/${sha256}`;
}
