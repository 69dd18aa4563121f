import { posix } from 'node:path';
import type { DigestAlgorithm, ExpectedDigest } from '../format.ts';

// Path rules of Debian repositories (https://wiki.debian.org/DebianRepository/Format):
// an archive root holds `dists/<suite>/…` (indexes, mutable) and `pool/…`
// (packages, never changed once published); a flat repository keeps its
// Packages and Release files in one directory next to the packages.

const releaseNames = new Set(['InRelease', 'Release', 'Release.gpg']);
const compressed = String.raw`(\.(gz|xz|bz2|lzma|zst|lz4))?`;
const packagesIndex = new RegExp(`^Packages${compressed}$`);
const sourcesIndex = new RegExp(`^Sources${compressed}$`);
const byHash = /(^|\/)by-hash\/([A-Za-z0-9]+)\/([0-9a-fA-F]+)$/;

const byHashAlgorithms: Record<string, DigestAlgorithm> = {
  SHA256: 'sha256',
  SHA512: 'sha512',
  SHA1: 'sha1',
};

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `…/by-hash/<Algorithm>/<hex>`: an index file addressed by its own digest (Acquire-By-Hash). */
export function isByHash(path: string): boolean {
  return byHash.test(path);
}

/** The digest a by-hash path names, when its algorithm is one Orchard verifies. */
export function byHashDigest(path: string): ExpectedDigest | undefined {
  const m = byHash.exec(path);
  const algorithm = m ? byHashAlgorithms[m[2]!] : undefined;
  if (!m || !algorithm) return undefined;
  const lengths: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };
  return m[3]!.length === lengths[algorithm] ? { algorithm, hex: m[3]!.toLowerCase() } : undefined;
}

/** `InRelease`, `Release` or `Release.gpg`, in `dists/<suite>/` or a flat repository. */
export function isReleaseFile(path: string): boolean {
  return releaseNames.has(baseName(path));
}

/** `Packages` or `Sources`, plain or compressed, in `dists/` or a flat repository. */
export function isPackageIndex(path: string): boolean {
  const name = baseName(path);
  return packagesIndex.test(name) || sourcesIndex.test(name);
}

/** Whether a path lies in the `dists/` tree of an archive. */
export function isInDists(path: string): boolean {
  return path.startsWith('dists/') || path.includes('/dists/');
}

/**
 * A by-hash file that holds a Packages or Sources index (the directory says:
 * `binary-<arch>/by-hash/…` or `source/by-hash/…`), as opposed to a
 * translation, Contents or dep11 file, which carries no package digests.
 */
export function isByHashPackageIndex(path: string): boolean {
  return isByHash(path) && /(^|\/)(binary-[^/]+|source)\/by-hash\//.test(path);
}

/**
 * The directory the `Filename` (and `Directory`) fields of an index at `path`
 * are relative to, with a trailing slash or empty: the archive root (what
 * precedes the first `dists` segment) or, in a flat repository, the index's
 * own directory.
 */
export function packageRootOf(path: string): string {
  const segments = path.split('/');
  const dists = segments.indexOf('dists');
  const root = dists >= 0 ? segments.slice(0, dists) : segments.slice(0, -1);
  return root.length ? `${root.join('/')}/` : '';
}

/** The directory a Release file's entries are relative to (its own), with a trailing slash or empty. */
export function releaseDirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(0, i + 1) : '';
}

/**
 * `root` + a relative path from an index, normalized (`./` dropped), or
 * undefined when it would leave the remote (absolute, `..`) or is empty:
 * such an entry yields no hint rather than one for another path.
 */
export function joinRelative(root: string, relative: string): string | undefined {
  if (relative === '' || relative.startsWith('/') || relative.includes('\\')) return undefined;
  const joined = posix.normalize(`${root}${relative}`);
  if (joined === '.' || joined.startsWith('../') || joined === '..' || joined.startsWith('/'))
    return undefined;
  if (joined.endsWith('/')) return undefined;
  return joined;
}
