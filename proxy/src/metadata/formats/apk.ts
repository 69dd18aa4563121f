import type { FormatMetadata, MetadataExtractor } from '../extractor.ts';
import { ExtractError } from '../extractor.ts';
import { compact, first, parseKeyValues } from '../text.ts';
import { findInTar } from './tar-scan.ts';

/**
 * Alpine `.apk`: concatenated gzip members (signature, control, data) whose
 * tars are cut without end blocks, so they read as one stream. `.PKGINFO`
 * sits in the control segment, a few entries in.
 */
export const apkExtractor: MetadataExtractor = {
  name: 'apk',
  claim: ({ filename, head, declaredFormat }) => {
    if (head[0] !== 0x1f || head[1] !== 0x8b) return 0;
    return filename.endsWith('.apk') || declaredFormat === 'apk' || declaredFormat === 'alpine' ? 10 : 0;
  },
  extract: async (source, ctx) => {
    const hit = await findInTar(source, ctx, (entry) => (entry.path === '.PKGINFO' ? 'take' : 'skip'), {
      maxEntries: 64,
    });
    if (!hit) throw new ExtractError('no .PKGINFO in the first 64 entries');
    return describe(parseKeyValues(hit.body.toString('utf8')));
  },
};

function describe(f: ReturnType<typeof parseKeyValues>): FormatMetadata {
  const name = first(f, 'pkgname');
  if (!name) throw new ExtractError('.PKGINFO has no pkgname');
  const size = first(f, 'size');
  return compact({
    package_name: name,
    version: first(f, 'pkgver'),
    architecture: first(f, 'arch'),
    description: first(f, 'pkgdesc'),
    url: first(f, 'url'),
    license: first(f, 'license'),
    origin: first(f, 'origin'),
    maintainer: first(f, 'maintainer'),
    installed_size: size && /^\d+$/.test(size) ? Number(size) : undefined,
    depends: f.get('depend'),
    provides: f.get('provides'),
  });
}
