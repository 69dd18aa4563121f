import { Readable } from 'node:stream';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { UploadChunk } from './upload-store.ts';

/** The chunks of an upload as one stream, read one after the other from the blob store. */
export function concatChunks(blobs: BlobStore, chunks: readonly UploadChunk[]): Readable {
  return Readable.from(
    (async function* () {
      for (const chunk of chunks) {
        const { body } = await blobs.get(chunk.key);
        yield* body;
      }
    })(),
    { objectMode: false },
  );
}

/** Remove an upload's temporary chunk objects; a chunk already gone is fine. */
export async function deleteChunks(blobs: BlobStore, chunks: readonly UploadChunk[]): Promise<void> {
  await Promise.allSettled(chunks.map((c) => blobs.delete(c.key)));
}
