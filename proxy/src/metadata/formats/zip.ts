import type { MetadataExtractor } from '../extractor.ts';
import { listZip, looksLikeZip } from '../zip.ts';

/**
 * Any zip not claimed by a more specific format: entry counts and the
 * declared uncompressed size, from the central directory alone. Nothing is
 * inflated, so a zip bomb costs only its directory.
 */
export const zipExtractor: MetadataExtractor = {
  name: 'zip',
  claim: ({ filename, head }) => (looksLikeZip(head) ? (filename.endsWith('.zip') ? 5 : 1) : 0),
  extract: async (source, ctx) => {
    let files = 0;
    let directories = 0;
    let uncompressed = 0;
    let compressed = 0;
    for await (const entry of listZip(source, ctx)) {
      if (entry.isDirectory) directories++;
      else files++;
      uncompressed += entry.uncompressedSize;
      compressed += entry.compressedSize;
    }
    return {
      file_count: files,
      directory_count: directories,
      uncompressed_size: uncompressed,
      compressed_size: compressed,
    };
  },
};
