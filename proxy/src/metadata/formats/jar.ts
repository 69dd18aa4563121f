import type { ArtifactSource, ExtractContext, FormatMetadata, MetadataExtractor } from '../extractor.ts';
import { compact, first, parseKeyValues, parseManifest } from '../text.ts';
import { listZip, looksLikeZip, readZipEntry, type ZipEntry } from '../zip.ts';

const pomProperties = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;

/** Manifest attributes worth surfacing; the rest (hashes, Class-Path) stay out of the bounded metadata. */
const manifestKeys = [
  'Manifest-Version',
  'Main-Class',
  'Created-By',
  'Build-Jdk-Spec',
  'Implementation-Title',
  'Implementation-Version',
  'Implementation-Vendor',
  'Specification-Title',
  'Specification-Version',
  'Specification-Vendor',
  'Automatic-Module-Name',
  'Bundle-SymbolicName',
  'Bundle-Version',
  'Bundle-Name',
];

/** `.jar`/`.war`/`.ear`: `META-INF/MANIFEST.MF` and Maven's `pom.properties` (group, artifact, version). */
export const jarExtractor: MetadataExtractor = {
  name: 'jar',
  claim: ({ filename, head, declaredFormat }) =>
    looksLikeZip(head) && (/\.(jar|war|ear)$/.test(filename) || declaredFormat === 'maven') ? 10 : 0,
  extract: async (source, ctx) => {
    const { manifest, pom } = await findMembers(source, ctx);
    const m = manifest
      ? parseManifest((await readZipEntry(source, manifest, ctx)).toString('utf8'))
      : undefined;
    const p = pom ? parseKeyValues((await readZipEntry(source, pom, ctx)).toString('utf8')) : undefined;
    return describe(m, p);
  },
};

async function findMembers(
  source: ArtifactSource,
  ctx: ExtractContext,
): Promise<{ manifest?: ZipEntry; pom?: ZipEntry }> {
  const out: { manifest?: ZipEntry; pom?: ZipEntry } = {};
  for await (const entry of listZip(source, ctx)) {
    if (!entry.safe) continue;
    if (entry.path === 'META-INF/MANIFEST.MF') out.manifest = entry;
    else if (!out.pom && pomProperties.test(entry.path)) out.pom = entry;
    if (out.manifest && out.pom) break;
  }
  return out;
}

function describe(
  m: ReturnType<typeof parseManifest> | undefined,
  p: ReturnType<typeof parseKeyValues> | undefined,
) {
  const manifest: Record<string, string> = {};
  for (const key of manifestKeys) {
    const value = m && first(m, key);
    if (value !== undefined) manifest[key] = value;
  }
  const groupId = p && first(p, 'groupId');
  const artifactId = p && first(p, 'artifactId');
  const version =
    (p && first(p, 'version')) ?? manifest['Implementation-Version'] ?? manifest['Bundle-Version'];
  const out: FormatMetadata = compact({
    package_name: artifactId ?? manifest['Implementation-Title'] ?? manifest['Bundle-SymbolicName'],
    version,
    group_id: groupId,
    artifact_id: artifactId,
    main_class: manifest['Main-Class'],
    manifest: Object.keys(manifest).length > 0 ? manifest : undefined,
  });
  return out;
}
