/**
 * Small blobs held in process memory, by sha256. Blobs are content-addressed,
 * so a remembered copy can never be stale: this only saves the store round
 * trip (open, stat, read, close) that dominates small warm hits. Objects up to
 * `maxObjectBytes` are kept, at most `maxBytes` in total, least recently used
 * first out. `maxBytes: 0` turns it off. Not shared between replicas.
 */
/** Indexes clients fetch over and over (packuments, simple pages) are often just over 1 MiB. */
const defaultMaxObjectBytes = 4 * 1024 * 1024;

export class BlobMemory {
  private readonly blobs = new Map<string, Buffer>();
  private total = 0;
  readonly maxBytes: number;
  readonly maxObjectBytes: number;

  constructor(opts: { maxBytes?: number; maxObjectBytes?: number } = {}) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.maxObjectBytes = Math.min(opts.maxObjectBytes ?? defaultMaxObjectBytes, this.maxBytes);
  }

  /** Whether an object of `size` bytes would be kept. */
  accepts(size: number): boolean {
    return this.maxBytes > 0 && size <= this.maxObjectBytes;
  }

  get(digest: string): Buffer | undefined {
    const b = this.blobs.get(digest);
    if (b) {
      // Map order is the LRU order.
      this.blobs.delete(digest);
      this.blobs.set(digest, b);
    }
    return b;
  }

  set(digest: string, bytes: Buffer): void {
    if (!this.accepts(bytes.length) || this.blobs.has(digest)) return;
    this.blobs.set(digest, bytes);
    this.total += bytes.length;
    while (this.total > this.maxBytes) {
      const [oldest, b] = this.blobs.entries().next().value!;
      this.blobs.delete(oldest);
      this.total -= b.length;
    }
  }
}
