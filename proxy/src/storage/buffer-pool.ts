/**
 * Reusable read buffers for bodies piped into HTTP responses (the fs store's
 * FileBody, the cache spool's readers). A buffer is lent for one read and
 * given back only once the socket's write callback said it holds the bytes,
 * so serving a large body allocates nothing: no page faults for fresh memory,
 * no garbage for the GC. Buffers come in a few sizes; at most
 * `maxSpareBytes` of each size are kept, process-wide.
 */
const maxSpareBytes = 16 * 1024 * 1024;
const spare = new Map<number, Buffer[]>();

/** A buffer of exactly `size` bytes (contents undefined). */
export function borrowBuffer(size: number): Buffer {
  return spare.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}

/** Give `buf` back; only after nothing (no socket write in flight) refers to it. */
export function returnBuffer(buf: Buffer): void {
  let list = spare.get(buf.length);
  if (!list) {
    list = [];
    spare.set(buf.length, list);
  }
  if ((list.length + 1) * buf.length <= maxSpareBytes) list.push(buf);
}
