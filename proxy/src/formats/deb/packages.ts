import type { Readable } from 'node:stream';
import type { ArtifactHint, DigestAlgorithm, ExpectedDigest } from '../format.ts';
import { readLines } from './decompress.ts';
import { joinRelative } from './paths.ts';

// Packages and Sources indexes are deb822 stanzas separated by blank lines
// (https://wiki.debian.org/DebianRepository/Format#A.22Packages.22_Indices):
// a binary stanza names its file in `Filename` (relative to the archive root)
// with its digest in `SHA256`; a source stanza lists `Checksums-Sha256` lines
// ` <hex> <size> <name>` for files in its `Directory`.

const singleFields: Record<string, DigestAlgorithm> = { sha256: 'sha256', sha512: 'sha512', sha1: 'sha1' };
const listFields: Record<string, DigestAlgorithm> = {
  'checksums-sha256': 'sha256',
  'checksums-sha512': 'sha512',
  'checksums-sha1': 'sha1',
};
const preference: DigestAlgorithm[] = ['sha256', 'sha512', 'sha1'];
const hexLength: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

interface Stanza {
  filename?: string;
  directory?: string;
  digests: Map<DigestAlgorithm, string>;
  lists: Map<DigestAlgorithm, Map<string, string>>;
}

const emptyStanza = (): Stanza => ({ digests: new Map(), lists: new Map() });

/**
 * Hints (package file path on the remote → digest, strongest algorithm first)
 * for every stanza of a Packages or Sources index, read line by line from
 * `text` (already decompressed). `root` is the directory `Filename` and
 * `Directory` are relative to (see `packageRootOf`). Stanzas without a usable
 * path or digest are skipped; the index itself is never changed.
 */
export async function scanPackageIndex(text: Readable, root: string): Promise<ArtifactHint[]> {
  const hints: ArtifactHint[] = [];
  let stanza = emptyStanza();
  let list: Map<string, string> | undefined;
  for await (const line of readLines(text)) {
    if (line.trim() === '') {
      collect(stanza, root, hints);
      stanza = emptyStanza();
      list = undefined;
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (list) addListEntry(list, line);
      continue;
    }
    list = undefined;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const field = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (field === 'filename') stanza.filename = value;
    else if (field === 'directory') stanza.directory = value;
    else if (singleFields[field]) stanza.digests.set(singleFields[field], value.toLowerCase());
    else if (listFields[field]) {
      list = new Map();
      stanza.lists.set(listFields[field], list);
    }
  }
  collect(stanza, root, hints);
  return hints;
}

function addListEntry(list: Map<string, string>, line: string): void {
  const [hex, size, name, extra] = line.trim().split(/\s+/);
  if (hex && name && extra === undefined && /^\d+$/.test(size ?? '')) list.set(name, hex.toLowerCase());
}

function collect(stanza: Stanza, root: string, hints: ArtifactHint[]): void {
  if (stanza.filename) {
    const path = joinRelative(root, stanza.filename);
    const digest = strongest((a) => stanza.digests.get(a));
    if (path && digest) hints.push({ path, digest });
  }
  if (stanza.directory !== undefined && stanza.lists.size > 0) {
    const dir = stanza.directory.replace(/\/+$/, '');
    const names = new Set<string>();
    for (const list of stanza.lists.values()) for (const name of list.keys()) names.add(name);
    for (const name of names) {
      if (name.includes('/')) continue;
      const path = joinRelative(root, dir === '' || dir === '.' ? name : `${dir}/${name}`);
      const digest = strongest((a) => stanza.lists.get(a)?.get(name));
      if (path && digest) hints.push({ path, digest });
    }
  }
}

function strongest(get: (a: DigestAlgorithm) => string | undefined): ExpectedDigest | undefined {
  for (const algorithm of preference) {
    const hex = get(algorithm);
    if (hex && hex.length === hexLength[algorithm] && /^[0-9a-f]+$/.test(hex)) return { algorithm, hex };
  }
  return undefined;
}
