import type { Readable } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { OrchardConfig, RemoteConfig } from '../config/index.ts';
import type { Coordinator } from '../coord/coordinator.ts';
import type { Database } from '../db/database.ts';
import type { Format } from '../formats/index.ts';
import type { Logger } from '../http/logger.ts';
import type { BlobStore, ByteRange, GetResult } from '../storage/blob-store.ts';
import type { UpstreamClientOptions } from '../upstream/client.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { CacheResultLabel } from './metrics.ts';

// The engine's public types: what routes built on it pass in and get back.

export interface CacheEngineOptions {
  db: Database;
  blobs: BlobStore;
  coord: Coordinator;
  logger: Logger;
  clock: Clock;
  registry: Registry;
  config: { current(): OrchardConfig };
  /** Where fills spool bodies (created if missing). */
  spoolDir: string;
  /** Fill lock lease (default 15 s); a dead leader's key is free again after it. */
  fillLeaseMs?: number;
  upstream?: Upstream;
  upstreamOptions?: UpstreamClientOptions;
  /** How long a warm hit may trust a remembered index row (default 5000; 0 = always ask the database). */
  entryMemoryMs?: number;
  /** Bytes of small blobs kept in memory for warm hits (default 64 MiB; 0 = off), objects up to 4 MiB. */
  blobMemoryBytes?: number;
  /** The Format of a package type; defaults to the format registry (`getFormat`). */
  formatFor?: (packageType: string) => Format;
}

/** A request for a (remote, normalized path), from any route built on the engine. */
export interface CacheRequest {
  remote: RemoteConfig;
  path: string;
  /** Absolute URL of the remote on this proxy, no trailing slash (index rewriting). */
  proxyBase: string;
}

export interface CacheResult {
  /** `remote` while the body still streams from the upstream; `cache` when it comes from the store. */
  source: 'cache' | 'remote';
  result: CacheResultLabel;
  /** Served from an expired copy because the upstream failed. */
  stale: boolean;
  object: CachedObject;
}

export interface CachedObject {
  /** Unknown only while streaming a body the upstream sent without Content-Length. */
  size?: number;
  /** sha256 hex; unknown only while streaming a body whose digest was not published. */
  digest?: string;
  contentType: string;
  lastModified?: string;
  /** Upstream headers the format keeps (lower-case). */
  headers: Record<string, string>;
  /** Streaming objects: the whole body, as it streams. Must be consumed or destroyed. */
  body?: Readable;
  /**
   * Streaming objects of known size: a reader of bytes `start`..`end` of the
   * body still filling (it waits for them). Call before destroying `body`.
   */
  openRange?(range: { start: number; end: number }): Readable;
  /** Small stored objects already in memory: the whole content. */
  bytes?: Buffer;
  /** Stored objects: open the blob. Throws NotFoundError when the blob vanished (see `forget`). */
  open?(range?: ByteRange): Promise<GetResult>;
  /** Count bytes actually sent to the client. */
  countServed(n: number): void;
}
