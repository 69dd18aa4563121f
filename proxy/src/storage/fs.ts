import { randomBytes } from 'node:crypto';
import { mkdir, open, opendir, readdir, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
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
} from './blob-store.ts';
import { InvalidKeyError, NotFoundError, RangeNotSatisfiableError } from './errors.ts';
import { FileBody } from './fs-body.ts';
import { errCode, isMissing, pruneEmptyDirs, publishFile, writeTemp } from './fs-files.ts';
import { FsUploads, type UploadInfo } from './fs-multipart.ts';

export interface FsBlobStoreOptions {
  /** Directory holding the objects; created on first write. */
  root: string;
}

/** Top-level names the backend keeps for itself; keys may not start with them. */
export const FS_RESERVED = ['.tmp', '.uploads'];

/**
 * Objects as files under `root`, key segments as directories. Writes stream
 * into `.tmp/` (same filesystem), are fsynced and renamed into place, so readers
 * see the old or the new file, never a partial one; a crash leaves only temp
 * files. Multipart sessions live under `.uploads/<uploadId>/` with a manifest,
 * so they survive a restart. A key cannot be both an object and a prefix of
 * another key (`a` and `a/b`): the second write fails with a `StorageError`.
 */
export class FsBlobStore implements BlobStore {
  readonly name = 'fs';
  readonly root: string;
  private readonly tmpDir: string;
  private readonly uploads: FsUploads;
  private ready: Promise<unknown> | undefined;
  /** Fills write their spool file in `.tmp/`; publishing it is a rename. */
  readonly maintenance: StoreMaintenance = {
    listUploads: (prefix) => this.listUploads(prefix),
    removeStaleTemp: (maxAgeMs, now) => this.removeStaleTemp(maxAgeMs, now),
  };

  readonly staging: FileStaging = {
    path: async () => {
      await this.init();
      return join(this.tmpDir, `staged-${randomBytes(16).toString('hex')}`);
    },
    adopt: async (path, key) => {
      if (dirname(path) !== this.tmpDir) {
        throw new InvalidKeyError({ key, backend: this.name, reason: 'the staged file is not in .tmp/' });
      }
      await this.publish(path, key, key);
    },
  };

  constructor(opts: FsBlobStoreOptions) {
    this.root = resolve(opts.root);
    this.tmpDir = join(this.root, '.tmp');
    this.uploads = new FsUploads({
      dir: join(this.root, '.uploads'),
      tmpDir: this.tmpDir,
      backend: this.name,
      publish: (from, key) => this.publish(from, key),
    });
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    try {
      this.path(key);
      await this.init();
    } catch (err) {
      body.destroy();
      throw err;
    }
    const check = { expectedSha256: opts.expectedSha256, expectedSize: opts.size, key, backend: this.name };
    const tmp = await writeTemp(this.tmpDir, body, check);
    await this.publish(tmp.path, key).catch(async (err: unknown) => {
      await unlink(tmp.path).catch(() => {});
      throw err;
    });
    return { size: tmp.size, sha256: tmp.sha256 };
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    const fh = await open(this.path(key), 'r').catch((err: unknown) => {
      throw isMissing(err) ? new NotFoundError({ key, backend: this.name }) : err;
    });
    try {
      const info = await fh.stat();
      if (!info.isFile()) throw new NotFoundError({ key, backend: this.name });
      const size = info.size;
      if (!opts.range) return { body: new FileBody(fh, 0, size - 1), size };
      const { start } = opts.range;
      if (start >= size) throw new RangeNotSatisfiableError({ key, backend: this.name, size });
      const end = Math.min(opts.range.end ?? size - 1, size - 1);
      return { body: new FileBody(fh, start, end), size, range: { start, end } };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const info = await stat(this.path(key));
      return info.isFile() ? { key, size: info.size, lastModified: info.mtime } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    try {
      await unlink(path);
    } catch (err) {
      // EISDIR/EPERM: the key names a directory, i.e. it is only a prefix of other keys.
      if (isMissing(err) || errCode(err) === 'EISDIR' || errCode(err) === 'EPERM') return;
      throw err;
    }
    await pruneEmptyDirs(dirname(path), this.root);
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.path(from);
    this.path(to);
    const info = await this.stat(from);
    if (!info) throw new NotFoundError({ key: from, backend: this.name });
    if (from === to) return;
    await this.publish(source, to, from);
    await pruneEmptyDirs(dirname(source), this.root);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(slash >= 0 ? prefix.slice(0, slash) : '', prefix);
  }

  async createMultipart(key: string): Promise<string> {
    this.path(key);
    await this.init();
    return this.uploads.create(key);
  }

  putPart(
    key: string,
    uploadId: string,
    n: number,
    body: Readable,
    opts: { size?: number } = {},
  ): Promise<PartInfo> {
    return this.uploads.putPart(key, uploadId, n, body, opts.size);
  }

  listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    return this.uploads.listParts(key, uploadId);
  }

  completeMultipart(key: string, uploadId: string, partNumbers: number[]): Promise<{ size: number }> {
    this.path(key);
    return this.uploads.complete(key, uploadId, partNumbers);
  }

  abortMultipart(key: string, uploadId: string): Promise<void> {
    return this.uploads.abort(key, uploadId);
  }

  /** Open sessions whose key starts with `prefix`, for garbage collection. */
  listUploads(prefix = ''): AsyncIterable<UploadInfo> {
    return this.uploads.list(prefix);
  }

  /**
   * Remove what crashed writes left behind: temp files, and session
   * directories without a manifest, older than `maxAgeMs`. Complete sessions
   * are not touched (abort them via `listUploads`). Returns how many were removed.
   */
  async removeStaleTemp(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    const tmpFiles = (await readdir(this.tmpDir).catch(() => [] as string[])).map((f) =>
      join(this.tmpDir, f),
    );
    for (const path of [...tmpFiles, ...(await this.uploads.orphans())]) {
      const info = await stat(path).catch(() => undefined);
      if (!info || now - info.mtimeMs < maxAgeMs) continue;
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }

  async close(): Promise<void> {}

  /** The file for `key`. Keys are validated by base.ts; this re-checks containment and reserved names. */
  private path(key: string): string {
    const path = join(this.root, ...key.split('/'));
    if (FS_RESERVED.includes(key.split('/')[0]) || !path.startsWith(this.root + sep)) {
      throw new InvalidKeyError({
        key,
        backend: this.name,
        reason: `reserved by the fs backend (${FS_RESERVED})`,
      });
    }
    return path;
  }

  private publish(from: string, key: string, fromKey?: string): Promise<void> {
    return publishFile({ from, target: this.path(key), key, fromKey, backend: this.name });
  }

  private init(): Promise<unknown> {
    this.ready ??= mkdir(this.tmpDir, { recursive: true }).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async *walk(dirKey: string, prefix: string): AsyncIterable<BlobInfo> {
    let dir: Awaited<ReturnType<typeof opendir>>;
    try {
      dir = await opendir(dirKey ? join(this.root, ...dirKey.split('/')) : this.root);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for await (const entry of dir) {
      if (!dirKey && FS_RESERVED.includes(entry.name)) continue;
      const key = dirKey ? `${dirKey}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await this.stat(key);
        if (info) yield info;
      }
    }
  }
}
