import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  BlobInfo,
  BlobStore,
  GetOptions,
  GetResult,
  PartInfo,
  PutOptions,
  PutResult,
  StoreMaintenance,
} from './blob-store.ts';
import { NotFoundError, RangeNotSatisfiableError } from './errors.ts';
import { HashingStream } from './hashing.ts';
import { selectParts } from './multipart.ts';

interface StoredObject {
  data: Buffer;
  lastModified: Date;
}

interface Session {
  key: string;
  initiated: Date;
  parts: Map<number, { data: Buffer; etag: string }>;
}

/** Chunk size of bodies served by `get`, so readers see a stream, not one huge buffer. */
const CHUNK = 64 * 1024;

/**
 * Objects held in process memory: the reference implementation, for tests and
 * single-process experiments. Objects are replaced whole when a write ends, so
 * the atomicity contract holds trivially; sessions live as long as the store.
 */
export class MemoryBlobStore implements BlobStore {
  readonly maintenance: StoreMaintenance = { listUploads: (prefix) => this.listUploads(prefix) };
  readonly name = 'memory';
  private readonly objects = new Map<string, StoredObject>();
  private readonly sessions = new Map<string, Session>();

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    const data = await this.collect(key, body, {
      expectedSha256: opts.expectedSha256,
      expectedSize: opts.size,
    });
    this.objects.set(key, { data: data.bytes, lastModified: new Date() });
    return { size: data.bytes.length, sha256: data.sha256 };
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    const obj = this.objects.get(key);
    if (!obj) throw new NotFoundError({ key, backend: this.name });
    const size = obj.data.length;
    if (!opts.range) return { body: chunked(obj.data), size };
    const { start } = opts.range;
    if (start >= size) throw new RangeNotSatisfiableError({ key, backend: this.name, size });
    const end = Math.min(opts.range.end ?? size - 1, size - 1);
    return { body: chunked(obj.data.subarray(start, end + 1)), size, range: { start, end } };
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    const obj = this.objects.get(key);
    return obj && { key, size: obj.data.length, lastModified: obj.lastModified };
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async move(from: string, to: string): Promise<void> {
    const obj = this.objects.get(from);
    if (!obj) throw new NotFoundError({ key: from, backend: this.name });
    this.objects.set(to, obj);
    if (from !== to) this.objects.delete(from);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    for (const [key, obj] of [...this.objects]) {
      if (key.startsWith(prefix)) yield { key, size: obj.data.length, lastModified: obj.lastModified };
    }
  }

  async createMultipart(key: string): Promise<string> {
    const uploadId = randomUUID();
    this.sessions.set(uploadId, { key, initiated: new Date(), parts: new Map() });
    return uploadId;
  }

  async putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    opts: { size?: number } = {},
  ): Promise<PartInfo> {
    try {
      this.session(key, uploadId);
    } catch (err) {
      body.destroy();
      throw err;
    }
    const data = await this.collect(key, body, { expectedSize: opts.size });
    // Re-check: the session may have been completed or aborted while the part streamed in.
    const session = this.session(key, uploadId);
    const etag = data.sha256.slice(0, 32);
    session.parts.set(partNumber, { data: data.bytes, etag });
    return { partNumber, size: data.bytes.length, etag };
  }

  async listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    const session = this.session(key, uploadId);
    return [...session.parts]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, p]) => ({ partNumber, size: p.data.length, etag: p.etag }));
  }

  async completeMultipart(key: string, uploadId: string, partNumbers: number[]): Promise<{ size: number }> {
    const parts = selectParts({
      key,
      backend: this.name,
      parts: await this.listParts(key, uploadId),
      partNumbers,
    });
    const session = this.session(key, uploadId);
    const data = Buffer.concat(parts.map((p) => session.parts.get(p.partNumber)!.data));
    this.objects.set(key, { data, lastModified: new Date() });
    this.sessions.delete(uploadId);
    return { size: data.length };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    if (this.sessions.get(uploadId)?.key === key) this.sessions.delete(uploadId);
  }

  /** Open sessions under `prefix`, for garbage collection and for tests that check nothing was left behind. */
  async *listUploads(prefix = ''): AsyncIterable<{ key: string; uploadId: string; initiated: Date }> {
    for (const [uploadId, s] of [...this.sessions]) {
      if (s.key.startsWith(prefix)) yield { key: s.key, uploadId, initiated: s.initiated };
    }
  }

  async close(): Promise<void> {}

  private session(key: string, uploadId: string): Session {
    const session = this.sessions.get(uploadId);
    if (!session || session.key !== key) {
      throw new NotFoundError({ key, backend: this.name, detail: `upload ${uploadId}` });
    }
    return session;
  }

  private async collect(
    key: string,
    body: Readable,
    check: { expectedSha256?: string; expectedSize?: number },
  ): Promise<{ bytes: Buffer; sha256: string }> {
    const hashing = new HashingStream({ ...check, key, backend: this.name });
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    await pipeline(body, hashing, sink);
    const bytes = Buffer.concat(chunks);
    return { bytes, sha256: hashing.sha256 };
  }
}

function chunked(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
    })(),
  );
}
