import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { PartInfo } from './blob-store.ts';
import { NotFoundError, StorageError } from './errors.ts';
import { isMissing, writeTemp } from './fs-files.ts';
import { selectParts } from './multipart.ts';

export interface UploadInfo {
  key: string;
  uploadId: string;
  initiated: Date;
}

interface Manifest {
  key: string;
  initiated: string;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
// `<part number, 5 digits>.<etag>`; the etag in the name makes a re-sent part a new file, published by rename.
const PART_FILE = /^(\d{5})\.([0-9a-f]{32})$/;

/**
 * Multipart sessions of the fs backend, one directory per session:
 * `.uploads/<uploadId>/manifest.json` (the key and creation time) and one file
 * per part. Everything is on disk, so a new process completes a session an old
 * one started. Parts are written to the temp dir and renamed in, so a failed
 * or re-sent part never leaves a partial file behind.
 */
export class FsUploads {
  private readonly dir: string;
  private readonly tmpDir: string;
  private readonly backend: string;
  private readonly publish: (from: string, key: string) => Promise<void>;

  constructor(opts: {
    dir: string;
    tmpDir: string;
    backend: string;
    publish: (from: string, key: string) => Promise<void>;
  }) {
    this.dir = opts.dir;
    this.tmpDir = opts.tmpDir;
    this.backend = opts.backend;
    this.publish = opts.publish;
  }

  async create(key: string): Promise<string> {
    const uploadId = randomBytes(16).toString('hex');
    const dir = join(this.dir, uploadId);
    await mkdir(dir, { recursive: true });
    const manifest: Manifest = { key, initiated: new Date().toISOString() };
    const tmp = join(dir, 'manifest.json.tmp');
    await writeFile(tmp, JSON.stringify(manifest), { flush: true });
    await rename(tmp, join(dir, 'manifest.json'));
    return uploadId;
  }

  async putPart(key: string, uploadId: string, n: number, body: Readable, size?: number): Promise<PartInfo> {
    let dir: string;
    try {
      dir = await this.session(key, uploadId);
    } catch (err) {
      body.destroy();
      throw err;
    }
    const tmp = await writeTemp(this.tmpDir, body, { expectedSize: size, key, backend: this.backend });
    const etag = tmp.sha256.slice(0, 32);
    const name = `${String(n).padStart(5, '0')}.${etag}`;
    try {
      await rename(tmp.path, join(dir, name));
    } catch (err) {
      await unlink(tmp.path).catch(() => {});
      throw isMissing(err) ? this.notFound(key, uploadId) : err;
    }
    // Drop earlier uploads of this part number; the file just renamed in is the part now.
    for (const other of await readdir(dir).catch(() => [] as string[])) {
      if (other !== name && PART_FILE.exec(other)?.[1] === name.slice(0, 5)) {
        await unlink(join(dir, other)).catch(() => {});
      }
    }
    return { partNumber: n, size: tmp.size, etag };
  }

  async listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    return (await this.partFiles(key, uploadId)).map(({ path: _, ...info }) => info);
  }

  async complete(key: string, uploadId: string, partNumbers: number[]): Promise<{ size: number }> {
    const files = await this.partFiles(key, uploadId);
    const parts = selectParts({ key, backend: this.backend, parts: files, partNumbers });
    const paths = new Map(files.map((f) => [f.partNumber, f.path]));
    const body = Readable.from(concat(parts.map((p) => paths.get(p.partNumber)!)), { objectMode: false });
    const tmp = await writeTemp(this.tmpDir, body, { key, backend: this.backend });
    try {
      await this.publish(tmp.path, key);
    } catch (err) {
      await unlink(tmp.path).catch(() => {});
      throw err;
    }
    await rm(join(this.dir, uploadId), { recursive: true, force: true });
    return { size: tmp.size };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    try {
      await this.session(key, uploadId);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    await rm(join(this.dir, uploadId), { recursive: true, force: true });
  }

  async *list(prefix: string): AsyncIterable<UploadInfo> {
    const ids = await readdir(this.dir).catch((err: unknown) => {
      if (isMissing(err)) return [] as string[];
      throw err;
    });
    for (const uploadId of ids) {
      const manifest = await this.readManifest(uploadId).catch(() => undefined);
      if (manifest?.key.startsWith(prefix)) {
        yield { key: manifest.key, uploadId, initiated: new Date(manifest.initiated) };
      }
    }
  }

  /** Session directories without a manifest (a crash during `create`), as paths. */
  async orphans(): Promise<string[]> {
    const out: string[] = [];
    for (const uploadId of await readdir(this.dir).catch(() => [] as string[])) {
      const manifest = await this.readManifest(uploadId).catch(() => undefined);
      if (!manifest) out.push(join(this.dir, uploadId));
    }
    return out;
  }

  /** The session's directory; `NotFoundError` unless it exists and belongs to `key`. */
  private async session(key: string, uploadId: string): Promise<string> {
    if (!UPLOAD_ID.test(uploadId)) throw this.notFound(key, uploadId);
    const manifest = await this.readManifest(uploadId).catch((err: unknown) => {
      throw isMissing(err) ? this.notFound(key, uploadId) : err;
    });
    if (manifest.key !== key) throw this.notFound(key, uploadId);
    return join(this.dir, uploadId);
  }

  private async readManifest(uploadId: string): Promise<Manifest> {
    const text = await readFile(join(this.dir, uploadId, 'manifest.json'), 'utf8');
    try {
      return JSON.parse(text) as Manifest;
    } catch (err) {
      throw new StorageError(`${this.backend}: corrupt manifest of upload ${uploadId}`, {
        key: '',
        backend: this.backend,
        cause: err,
      });
    }
  }

  private async partFiles(key: string, uploadId: string): Promise<(PartInfo & { path: string })[]> {
    const dir = await this.session(key, uploadId);
    const byNumber = new Map<number, PartInfo & { path: string; mtimeMs: number }>();
    for (const name of await readdir(dir)) {
      const m = PART_FILE.exec(name);
      if (!m) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const partNumber = Number(m[1]);
      const seen = byNumber.get(partNumber);
      // Two files for one number exist only while a re-send is being published; the newer one wins.
      if (seen && seen.mtimeMs > info.mtimeMs) continue;
      byNumber.set(partNumber, { partNumber, size: info.size, etag: m[2], path, mtimeMs: info.mtimeMs });
    }
    return [...byNumber.values()]
      .sort((a, b) => a.partNumber - b.partNumber)
      .map(({ mtimeMs: _, ...part }) => part);
  }

  private notFound(key: string, uploadId: string): NotFoundError {
    return new NotFoundError({ key, backend: this.backend, detail: `upload ${uploadId}` });
  }
}

async function* concat(paths: string[]): AsyncIterable<Buffer> {
  for (const path of paths) {
    for await (const chunk of createReadStream(path)) yield chunk as Buffer;
  }
}
