import type { ApiError, ErrorCode } from '../http/errors.ts';
import type { Spool } from './spool.ts';

/**
 * What a request learns from the fill it started or joined, as soon as it is
 * known (for `stream`: when the upstream's headers have arrived):
 * - `stream`: read the body from the spool while it fills;
 * - `stored`: the entry is committed (by this replica or another, or a 304
 *   refreshed it, or it was kept as a stale copy); serve it from the store;
 * - `not-found`: the upstream answered 404/410 (now negatively cached);
 * - `quarantined`: published too recently;
 * - `error`: the fill failed and there was no stale copy to fall back on.
 */
export type FillStart =
  | { kind: 'stream'; spool: Spool; meta: StreamMeta }
  | { kind: 'stored'; result: 'miss' | 'revalidated' | 'stale' }
  | { kind: 'not-found' }
  | { kind: 'quarantined'; publishedAt: Date }
  | { kind: 'error'; error: ApiError };

/** Response metadata of a body still streaming from the upstream. */
export interface StreamMeta {
  /** The upstream's Content-Length, when it sent one. */
  size?: number;
  contentType: string;
  lastModified?: string;
  headers: Record<string, string>;
  /** sha256 hex, when known before the body (a digest in the path or an index). */
  digest?: string;
}

/**
 * How a fill ended, as recorded under the outcome key for followers on other
 * replicas. `seq` is the leader's fencing token, so two fills with the same
 * result still differ. `aborted` means the fill did not finish for a reason
 * that is not the upstream's (a crash, a store failure): followers retry.
 */
export interface FillOutcome {
  seq: number;
  kind: 'stored' | 'not-found' | 'quarantined' | 'error' | 'aborted';
  stale?: boolean;
  code?: ErrorCode;
  message?: string;
  publishedAt?: string;
}

/** A fill as the single-flight layer sees it. */
export interface FillHandle {
  started: Promise<FillStart>;
  /** Resolves (never rejects) once the fill is committed or given up, and its outcome published. */
  done: Promise<void>;
  /** Release what the fill holds (its spool reference) once nobody can join it any more. */
  dispose(): void;
  /** Stop the fill now (shutdown). */
  abort(): void;
}
