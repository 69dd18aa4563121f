import type { ExpectedDigest } from '../format.ts';

/**
 * The digest to verify a tarball against: the strongest hash of its SRI
 * `dist.integrity` (sha512, else sha256, else sha1), else the hex
 * `dist.shasum` (sha1) that old packages only have. `undefined` when neither
 * is usable.
 */
export function tarballDigest(dist: { integrity?: unknown; shasum?: unknown }): ExpectedDigest | undefined {
  if (typeof dist.integrity === 'string') {
    const byAlg = new Map<string, string>();
    for (const token of dist.integrity.trim().split(/\s+/)) {
      const m = /^(sha512|sha256|sha1)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(token);
      if (m) byAlg.set(m[1]!, Buffer.from(m[2]!, 'base64').toString('hex'));
    }
    for (const algorithm of ['sha512', 'sha256', 'sha1'] as const) {
      const hex = byAlg.get(algorithm);
      const expectedLength = { sha512: 128, sha256: 64, sha1: 40 }[algorithm];
      if (hex && hex.length === expectedLength) return { algorithm, hex };
    }
  }
  if (typeof dist.shasum === 'string' && /^[0-9a-fA-F]{40}$/.test(dist.shasum)) {
    return { algorithm: 'sha1', hex: dist.shasum.toLowerCase() };
  }
  return undefined;
}
