import type { MetadataExtractor } from '../extractor.ts';
import { compact } from '../text.ts';
import { findInTar } from './tar-scan.ts';

const suffix = /\.(tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|tar)$/i;
const nameVersion = /^(.+?)[-_]v?(\d+(?:\.\d+)*(?:[-+.~]?[0-9A-Za-z][0-9A-Za-z.+~-]*)?)$/;

/**
 * Generic tarballs: name and version come from the filename
 * (`app-v1.0.0.tar.gz` → `app`, `1.0.0`). The first member header is read to
 * catch files that are not tarballs at all; the rest is never decompressed.
 */
export const tarballExtractor: MetadataExtractor = {
  name: 'tarball',
  claim: ({ filename }) => (suffix.test(filename) ? 1 : 0),
  extract: async (source, ctx) => {
    const head = await source.read(0, 6);
    const bzip2 = head.subarray(0, 3).toString('latin1') === 'BZh';
    if (!bzip2 && source.size > 0) await findInTar(source, ctx, () => 'stop');
    return parseTarballName(source.filename);
  },
};

export function parseTarballName(filename: string): Record<string, unknown> {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const stem = base.replace(suffix, '');
  const m = nameVersion.exec(stem);
  return compact({ package_name: m ? m[1] : stem || undefined, version: m?.[2] });
}
