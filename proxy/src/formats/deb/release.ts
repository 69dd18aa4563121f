import type { ArtifactHint, DigestAlgorithm } from '../format.ts';
import { joinRelative, releaseDirOf } from './paths.ts';

// Release / InRelease (https://wiki.debian.org/DebianRepository/Format#A.22Release.22_files):
// fields, then per-algorithm sections of ` <hex> <size> <path>` lines naming
// every index of the suite relative to the Release file's directory. InRelease
// is the same text inside an OpenPGP clearsigned message.

const sections: Record<string, DigestAlgorithm> = { SHA256: 'sha256', SHA512: 'sha512', SHA1: 'sha1' };
/** Strongest first: a file listed under several algorithms gets the first one found here. */
const preference: DigestAlgorithm[] = ['sha256', 'sha512', 'sha1'];
const hexLength: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

/**
 * Hints for the indexes a Release or InRelease file at `path` lists: each
 * listed file's path on the remote and its digest (SHA256 preferred), so the
 * engine verifies Packages and Sources files against the Release apt trusts,
 * and a cached index stays current exactly while its digest is the listed one.
 * Unknown sections and malformed lines are skipped; the signature block of an
 * InRelease file is not read (apt checks signatures, Orchard passes them on).
 */
export function parseReleaseHints(path: string, text: string): ArtifactHint[] {
  const dir = releaseDirOf(path);
  const found = new Map<string, Map<DigestAlgorithm, string>>();
  let section: DigestAlgorithm | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('-----BEGIN PGP SIGNATURE')) break;
    if (line.startsWith(' ')) {
      if (section) addEntry(found, section, line);
      continue;
    }
    const colon = line.indexOf(':');
    section = colon > 0 ? sections[line.slice(0, colon)] : undefined;
  }
  const hints: ArtifactHint[] = [];
  for (const [name, digests] of found) {
    const target = joinRelative(dir, name);
    const algorithm = preference.find((a) => digests.has(a));
    if (target && algorithm)
      hints.push({ path: target, digest: { algorithm, hex: digests.get(algorithm)! } });
  }
  return hints;
}

function addEntry(
  found: Map<string, Map<DigestAlgorithm, string>>,
  algorithm: DigestAlgorithm,
  line: string,
) {
  const [hex, size, name, extra] = line.trim().split(/\s+/);
  if (!hex || !name || extra !== undefined || !/^\d+$/.test(size ?? '')) return;
  if (hex.length !== hexLength[algorithm] || !/^[0-9a-fA-F]+$/.test(hex)) return;
  let digests = found.get(name);
  if (!digests) {
    digests = new Map();
    found.set(name, digests);
  }
  digests.set(algorithm, hex.toLowerCase());
}
