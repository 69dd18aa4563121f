import { Readable, Transform } from 'node:stream';
import type { BlobStore } from '../storage/blob-store.ts';
import type { ArtifactSource, ExtractContext } from './extractor.ts';

/** An artifact held in memory (tests, small bodies). */
export function bufferSource(buf: Buffer, filename = ''): ArtifactSource {
  return {
    size: buf.length,
    filename,
    read: async (start, length) => buf.subarray(start, Math.min(buf.length, start + length)),
    open: async (start = 0, end = buf.length) => Readable.from([buf.subarray(start, end)]),
  };
}

/** An artifact stored under `key`, read with ranged gets. */
export function blobSource(blobs: BlobStore, key: string, size: number, filename = ''): ArtifactSource {
  const open = async (start = 0, end = size): Promise<Readable> => {
    if (end <= start) return Readable.from([]);
    const { body } = await blobs.get(key, { range: { start, end: end - 1 } });
    return body;
  };
  return {
    size,
    filename,
    open,
    read: async (start, length) => {
      const end = Math.min(size, start + length);
      if (end <= start) return Buffer.alloc(0);
      const chunks: Buffer[] = [];
      for await (const chunk of await open(start, end)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

/**
 * Wrap a source so every byte read is charged to the budget and every stream
 * is destroyed when the time budget runs out. The runner hands extractors
 * only metered sources, so they cannot read past the limits by accident.
 */
export function meteredSource(src: ArtifactSource, ctx: ExtractContext): ArtifactSource {
  return {
    size: src.size,
    filename: src.filename,
    read: async (start, length) => {
      if (start < 0 || length < 0 || !Number.isSafeInteger(start + length)) {
        throw new RangeError(`bad read (${start}, ${length})`);
      }
      ctx.budget.chargeRead(Math.min(length, Math.max(0, src.size - start)));
      return src.read(start, length);
    },
    open: async (start = 0, end = src.size) => {
      ctx.budget.check();
      const body = await src.open(start, end);
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          try {
            ctx.budget.chargeRead(chunk.length);
            cb(null, chunk);
          } catch (err) {
            cb(err as Error);
          }
        },
      });
      const onAbort = () => {
        body.destroy();
        meter.destroy(new Error('extraction aborted'));
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      body.once('error', (err) => meter.destroy(err));
      meter.once('close', () => {
        ctx.signal.removeEventListener('abort', onAbort);
        body.destroy();
      });
      return body.pipe(meter);
    },
  };
}
