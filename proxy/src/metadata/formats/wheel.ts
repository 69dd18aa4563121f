import type { FormatMetadata, MetadataExtractor } from '../extractor.ts';
import { ExtractError } from '../extractor.ts';
import { compact, first, parseHeaders } from '../text.ts';
import { listZip, looksLikeZip, readZipEntry, type ZipEntry } from '../zip.ts';

const metadataPath = /^[^/]+\.dist-info\/METADATA$/;

/** `.whl`: the zip central directory → `<name>.dist-info/METADATA`, plus the tags in the filename (PEP 427). */
export const wheelExtractor: MetadataExtractor = {
  name: 'wheel',
  claim: ({ filename, head, declaredFormat }) =>
    looksLikeZip(head) && (filename.endsWith('.whl') || declaredFormat === 'pypi') ? 10 : 0,
  extract: async (source, ctx) => {
    let found: ZipEntry | undefined;
    for await (const entry of listZip(source, ctx)) {
      if (entry.safe && metadataPath.test(entry.path)) {
        found = entry;
        break;
      }
    }
    if (!found) {
      if (!source.filename.toLowerCase().endsWith('.whl')) return undefined;
      throw new ExtractError('wheel has no .dist-info/METADATA');
    }
    const fields = parseHeaders((await readZipEntry(source, found, ctx)).toString('utf8'));
    return describe(fields, source.filename);
  },
};

function describe(f: ReturnType<typeof parseHeaders>, filename: string): FormatMetadata {
  const name = first(f, 'name');
  if (!name) throw new ExtractError('wheel METADATA has no Name');
  return compact({
    package_name: name,
    version: first(f, 'version'),
    summary: first(f, 'summary'),
    author: first(f, 'author'),
    author_email: first(f, 'author-email'),
    license: first(f, 'license'),
    requires_python: first(f, 'requires-python'),
    requires_dist: f.get('requires-dist'),
    metadata_version: first(f, 'metadata-version'),
    ...wheelTags(filename),
  });
}

/** `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl` */
function wheelTags(filename: string): Record<string, string | undefined> {
  const base = filename.split('/').pop() ?? '';
  const parts = base.replace(/\.whl$/i, '').split('-');
  if (parts.length !== 5 && parts.length !== 6) return {};
  const [python_tag, abi_tag, platform_tag] = parts.slice(-3);
  return { python_tag, abi_tag, platform_tag, build_tag: parts.length === 6 ? parts[2] : undefined };
}
