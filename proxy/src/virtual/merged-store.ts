import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Coordinator } from '../coord/coordinator.ts';
import { type BlobStore, blobKey } from '../storage/blob-store.ts';

/** A merged index as stored: its blob (content-addressed) and how to serve it. */
export interface MergedEntry {
  digest: string;
  size: number;
  contentType: string;
  /** When it was merged (HTTP date), for Last-Modified. */
  mergedAt: string;
}

/**
 * Merged virtual-repository indexes, shared by all replicas: the bytes live
 * in the BlobStore under their sha256, a coordinator key names the current
 * one for a (virtual, members, path) and expires after the TTL (the smallest
 * `mutableTtl` of the members, as the seed says). Changing the member list
 * changes the key, so a merge of the old members is never served for the new.
 * Safe to call concurrently: the last writer wins, and either result is a
 * complete merge.
 */
export class MergedStore {
  private readonly coord: Coordinator;
  private readonly blobs: BlobStore;

  constructor(opts: { coord: Coordinator; blobs: BlobStore }) {
    this.coord = opts.coord;
    this.blobs = opts.blobs;
  }

  /** The stored merge, or `undefined` when none is fresh (or its blob is gone). */
  async get(virtual: string, members: readonly string[], path: string): Promise<MergedEntry | undefined> {
    const raw = await this.coord.get(key(virtual, members, path));
    if (!raw) return undefined;
    let entry: MergedEntry;
    try {
      entry = JSON.parse(raw) as MergedEntry;
    } catch {
      return undefined;
    }
    return (await this.blobs.stat(blobKey(entry.digest))) ? entry : undefined;
  }

  /** Store a merge for `ttlMs` (not at all when `ttlMs` ≤ 0); returns its entry either way. */
  async put(
    virtual: string,
    members: readonly string[],
    path: string,
    body: Buffer,
    contentType: string,
    ttlMs: number,
    now: number,
  ): Promise<MergedEntry> {
    const digest = createHash('sha256').update(body).digest('hex');
    const entry: MergedEntry = {
      digest,
      size: body.length,
      contentType,
      mergedAt: new Date(now).toUTCString(),
    };
    if ((await this.blobs.stat(blobKey(digest))) === undefined) {
      await this.blobs.put(blobKey(digest), Readable.from([body]), {
        expectedSha256: digest,
        size: body.length,
        contentType,
      });
    }
    if (ttlMs > 0) await this.coord.set(key(virtual, members, path), JSON.stringify(entry), { ttlMs });
    return entry;
  }
}

function key(virtual: string, members: readonly string[], path: string): string {
  const m = createHash('sha256').update(members.join('\n')).digest('hex').slice(0, 16);
  return `virtual:merged:${virtual}:${m}:${path}`;
}
