import type { Readable } from 'node:stream';
import type { Queryable } from '../db/database.ts';
import type {
  BlobInfo,
  BlobStore,
  FileStaging,
  GetOptions,
  GetResult,
  PartInfo,
  PutOptions,
  PutResult,
  StoreMaintenance,
} from '../storage/blob-store.ts';
import { claimBlob } from './references.ts';

const blobKeyPattern = /^blobs\/sha256\/[0-9a-f]{2}\/([0-9a-f]{64})$/;

/** The sha256 a content-addressed key names, or undefined for any other key. */
export function digestOfKey(key: string): string | undefined {
  return blobKeyPattern.exec(key)?.[1];
}

/**
 * The blob store the proxy uses once garbage collection runs: every call that
 * looks for a content-addressed blob in order to reuse it (`stat`), or that
 * publishes one (`put`, `move`, `completeMultipart`, `staging.adopt`), first
 * claims the digest (`claimBlob`), so the collector never deletes a blob a
 * writer is about to reference. Reads and deletes pass straight through: a
 * reader reaches a blob through a row that references it. Other keys
 * (temporary ones) are never claimed.
 */
export class GuardedBlobStore implements BlobStore {
  readonly name: string;
  readonly staging?: FileStaging;
  readonly maintenance?: StoreMaintenance;
  private readonly inner: BlobStore;
  private readonly db: Queryable;

  constructor(inner: BlobStore, db: Queryable) {
    this.inner = inner;
    this.db = db;
    this.name = inner.name;
    this.maintenance = inner.maintenance;
    const staging = inner.staging;
    if (staging) {
      this.staging = {
        path: () => staging.path(),
        adopt: async (path, key) => {
          await this.claim(key);
          return staging.adopt(path, key);
        },
      };
    }
  }

  async put(key: string, body: Readable, opts?: PutOptions): Promise<PutResult> {
    try {
      await this.claim(key);
    } catch (err) {
      body.destroy();
      throw err;
    }
    return this.inner.put(key, body, opts);
  }

  get(key: string, opts?: GetOptions): Promise<GetResult> {
    return this.inner.get(key, opts);
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    await this.claim(key);
    return this.inner.stat(key);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  async move(from: string, to: string): Promise<void> {
    await this.claim(to);
    return this.inner.move(from, to);
  }

  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix);
  }

  createMultipart(key: string): Promise<string> {
    return this.inner.createMultipart(key);
  }

  putPart(key: string, uploadId: string, partNumber: number, body: Readable, opts?: { size?: number }) {
    return this.inner.putPart(key, uploadId, partNumber, body, opts);
  }

  listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    return this.inner.listParts(key, uploadId);
  }

  async completeMultipart(key: string, uploadId: string, partNumbers: number[]): Promise<{ size: number }> {
    await this.claim(key);
    return this.inner.completeMultipart(key, uploadId, partNumbers);
  }

  abortMultipart(key: string, uploadId: string): Promise<void> {
    return this.inner.abortMultipart(key, uploadId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async claim(key: string): Promise<void> {
    const digest = digestOfKey(key);
    if (digest) await claimBlob(this.db, digest);
  }
}
