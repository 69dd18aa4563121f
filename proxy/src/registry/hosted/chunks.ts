import { Readable } from 'node:stream';
import type { BlobStore } from '../../storage/blob-store.ts';
import { chunkPrefix, type UploadChunk } from './upload-store.ts';

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

/**
 * Remove an upload's temporary objects: the chunks it lists and anything else
 * under its prefix (a chunk a racing PATCH wrote after the list was read). A
 * chunk already gone (moved into place) is fine.
 */
export async function deleteChunks(
  blobs: BlobStore,
  id: string,
  chunks: readonly UploadChunk[],
): Promise<void> {
  const keys = new Set(chunks.map((c) => c.key));
  try {
    for await (const b of blobs.list(chunkPrefix(id))) keys.add(b.key);
  } catch {
    // Listing is best effort; the listed chunks are still removed.
  }
  await Promise.allSettled([...keys].map((k) => blobs.delete(k)));
}
