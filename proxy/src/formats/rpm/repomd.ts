import { joinRelative } from '../deb/paths.ts';
import type { ArtifactHint } from '../format.ts';
import { attribute, repoRootOf, toDigest } from './paths.ts';

const dataBlock = /<data\b[^>]*>([\s\S]*?)<\/data>/g;
const checksumTag = /<checksum\b([^>]*)>([^<]*)<\/checksum>/;
const locationTag = /<location\b[^>]*>/;

/**
 * Hints for the metadata files a `repodata/repomd.xml` at `path` lists: each
 * `<data>` entry's location (relative to the repository root) and its
 * `<checksum>` (of the file as published, not `<open-checksum>`). Entries
 * with an `xml:base` (elsewhere), an unknown algorithm or a location outside
 * the remote yield no hint.
 */
export function parseRepomdHints(path: string, xml: string): ArtifactHint[] {
  const root = repoRootOf(path);
  const hints: ArtifactHint[] = [];
  for (const m of xml.matchAll(dataBlock)) {
    const body = m[1]!;
    const location = locationTag.exec(body)?.[0];
    const checksum = checksumTag.exec(body);
    if (!location || !checksum || attribute(location, 'xml:base') !== undefined) continue;
    const href = attribute(location, 'href');
    const target = href ? joinRelative(root, href) : undefined;
    const digest = toDigest(attribute(checksum[1]!, 'type'), checksum[2]);
    if (target && digest) hints.push({ path: target, digest });
  }
  return hints;
}
