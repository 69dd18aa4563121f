import type { Readable } from 'node:stream';
import { joinRelative } from '../deb/paths.ts';
import type { ArtifactHint } from '../format.ts';
import { attribute, decodeXml, toDigest } from './paths.ts';

const locationTag = /<location\b[^>]*>/;
const checksumTag = /<checksum\b([^>]*)>([^<]*)<\/checksum>/;
/** A `<package>` element larger than this (a runaway document) is skipped, not buffered. */
const maxPackageChars = 16 * 1024 * 1024;

/**
 * Hints (package path on the remote → checksum) for every `<package>` of a
 * primary.xml, read from the decompressed stream `text` one element at a
 * time, so memory stays bounded by the largest element, not the document.
 * `root` is the repository root that `<location href>` is relative to.
 * Packages with an `xml:base` (served elsewhere), an unknown checksum type or
 * a location outside the remote yield no hint.
 */
export async function scanPrimary(text: Readable, root: string): Promise<ArtifactHint[]> {
  const decoder = new TextDecoder('utf-8');
  const hints: ArtifactHint[] = [];
  let buffer = '';
  for await (const chunk of text) {
    buffer += decoder.decode(chunk as Buffer, { stream: true });
    buffer = takePackages(buffer, root, hints);
  }
  takePackages(buffer + decoder.decode(), root, hints);
  return hints;
}

/** Consume every complete `<package>…</package>` in `buffer`; return what remains. */
function takePackages(buffer: string, root: string, hints: ArtifactHint[]): string {
  const startTag = /<package[\s>]/g;
  let from = 0;
  for (;;) {
    startTag.lastIndex = from;
    const start = startTag.exec(buffer)?.index;
    // No start tag yet: keep a tail long enough to hold one cut between chunks.
    if (start === undefined) return buffer.slice(Math.max(from, buffer.length - 16));
    const end = buffer.indexOf('</package>', start);
    if (end < 0) {
      const rest = buffer.slice(start);
      // Keep waiting for the end tag, unless this element is absurdly large: then drop it.
      return rest.length > maxPackageChars ? '' : rest;
    }
    const hint = packageHint(buffer.slice(start, end), root);
    if (hint) hints.push(hint);
    from = end + '</package>'.length;
  }
}

function packageHint(element: string, root: string): ArtifactHint | undefined {
  const location = locationTag.exec(element)?.[0];
  const checksum = checksumTag.exec(element);
  if (!location || !checksum || attribute(location, 'xml:base') !== undefined) return undefined;
  const href = attribute(location, 'href');
  const path = href ? joinRelative(root, href) : undefined;
  const digest = toDigest(attribute(checksum[1]!, 'type'), decodeXml(checksum[2]!));
  return path && digest ? { path, digest } : undefined;
}
