/**
 * The newest bytes of a spool, kept in memory as the chunks that arrived (no
 * copies), so readers that keep up never touch the spool file. Holds at least
 * `windowBytes` and never drops a chunk that is not yet on disk.
 */
export class SpoolWindow {
  private readonly windowBytes: number;
  private chunks: { start: number; buf: Buffer }[] = [];
  private bytes = 0;

  constructor(windowBytes: number) {
    this.windowBytes = windowBytes;
  }

  /** Keep `chunk` (which starts at `start`); drop the oldest chunks beyond the window that end by `flushed`. */
  remember(start: number, chunk: Buffer, flushed: number): void {
    if (chunk.length === 0) return;
    this.chunks.push({ start, buf: chunk });
    this.bytes += chunk.length;
    while (this.chunks.length > 1) {
      const first = this.chunks[0]!;
      const onDisk = first.start + first.buf.length <= flushed;
      if (!onDisk || this.bytes - first.buf.length < this.windowBytes) break;
      this.chunks.shift();
      this.bytes -= first.buf.length;
    }
  }

  /**
   * Bytes from `pos` (up to `end`, exclusive), or undefined when `pos` is older
   * than the window. A chunk of at least `join` bytes is handed out as is;
   * smaller neighbours are joined up to that size, so the socket and the store
   * never see a stream of tiny writes.
   */
  slice(pos: number, end: number, join: number): Buffer | undefined {
    const first = this.chunks[0];
    if (!first || pos < first.start) return undefined;
    let i = this.chunks.length - 1;
    while (i > 0 && this.chunks[i]!.start > pos) i--;
    const parts: Buffer[] = [];
    let total = 0;
    for (let at = pos; i < this.chunks.length && at < end && total < join; i++) {
      const c = this.chunks[i]!;
      const part = c.buf.subarray(at - c.start, Math.min(c.buf.length, end - c.start, at - c.start + join));
      if (part.length === 0) break;
      parts.push(part);
      total += part.length;
      at += part.length;
    }
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
  }
}
