import { decompress, detectCompression } from '../decompress.ts';
import type { ArtifactSource, ExtractContext, FormatMetadata, MetadataExtractor } from '../extractor.ts';
import { ExtractError } from '../extractor.ts';
import { readTar } from '../tar.ts';
import { compact, first, parseHeaders, splitList } from '../text.ts';
import { listAr, looksLikeAr } from './ar.ts';

/** `.deb`: ar container → `control.tar{,.gz,.xz,.zst}` → `./control`. The data member is never read. */
export const debExtractor: MetadataExtractor = {
  name: 'deb',
  claim: ({ filename, head, declaredFormat }) =>
    looksLikeAr(head) && (filename.endsWith('.deb') || filename.endsWith('.udeb') || declaredFormat === 'deb')
      ? 10
      : 0,
  extract: async (source, ctx) => parseControl(await readControlFile(source, ctx)),
};

async function readControlFile(source: ArtifactSource, ctx: ExtractContext): Promise<string> {
  for await (const member of listAr(source, ctx)) {
    if (!member.name.startsWith('control.tar')) continue;
    const raw = await source.open(member.offset, member.offset + member.size);
    const head = await source.read(member.offset, 6);
    for await (const entry of readTar(decompress(raw, detectCompression(head), ctx), ctx)) {
      if (entry.safe && entry.type === 'file' && entry.path === 'control')
        return (await entry.read()).toString('utf8');
    }
    throw new ExtractError('control.tar has no control file');
  }
  throw new ExtractError('no control.tar member in .deb');
}

function parseControl(text: string): FormatMetadata {
  const f = parseHeaders(text);
  const name = first(f, 'package');
  if (!name) throw new ExtractError('control file has no Package field');
  const installed = first(f, 'installed-size');
  return compact({
    package_name: name,
    version: first(f, 'version'),
    architecture: first(f, 'architecture'),
    maintainer: first(f, 'maintainer'),
    depends: splitList(first(f, 'depends')),
    pre_depends: splitList(first(f, 'pre-depends')),
    section: first(f, 'section'),
    priority: first(f, 'priority'),
    installed_size: installed && /^\d+$/.test(installed) ? Number(installed) : undefined,
    homepage: first(f, 'homepage'),
    description: first(f, 'description')?.split('\n')[0],
  });
}
