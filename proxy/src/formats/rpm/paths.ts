import type { DigestAlgorithm, ExpectedDigest } from '../format.ts';

// Path rules of rpm-md repositories (what createrepo_c writes and dnf reads):
// a repository root holds `repodata/repomd.xml`, which lists the other
// metadata files with their checksums; their names usually start with that
// checksum (`<hex>-primary.xml.gz`); package locations in primary.xml and
// metadata locations in repomd.xml are relative to the root.

const repomdName = /^repomd\.xml(\.asc|\.key)?$/;
const contentNamed = /^([0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})-[^/]+$/;
const primaryName = /(^|-)primary\.xml(\.(gz|zst|xz|bz2))?$/;

function split(path: string): { dir: string; name: string } {
  const i = path.lastIndexOf('/');
  return i >= 0 ? { dir: path.slice(0, i + 1), name: path.slice(i + 1) } : { dir: '', name: path };
}

/** Whether the path is a file directly in a `repodata/` directory. */
export function isRepodata(path: string): boolean {
  const { dir } = split(path);
  return dir === 'repodata/' || dir.endsWith('/repodata/');
}

/** `repodata/repomd.xml` and its signature or key (`.asc`, `.key`). */
export function isRepomdFile(path: string): boolean {
  return isRepodata(path) && repomdName.test(split(path).name);
}

/** `repodata/repomd.xml` itself. */
export function isRepomd(path: string): boolean {
  return isRepodata(path) && split(path).name === 'repomd.xml';
}

/** A metadata file named by its own checksum (`repodata/<hex>-primary.xml.gz`): it never changes. */
export function isContentNamed(path: string): boolean {
  return isRepodata(path) && contentNamed.test(split(path).name);
}

/** The primary metadata (package list with checksums), compressed or not. */
export function isPrimary(path: string): boolean {
  return isRepodata(path) && primaryName.test(split(path).name);
}

/** The repository root of a repodata path, with a trailing slash or empty. */
export function repoRootOf(path: string): string {
  return split(path).dir.slice(0, -'repodata/'.length);
}

/** The repomd.xml of the repository a repodata path belongs to. */
export function repomdOf(path: string): string {
  return `${repoRootOf(path)}repodata/repomd.xml`;
}

const algorithms: Record<string, DigestAlgorithm> = {
  sha256: 'sha256',
  sha512: 'sha512',
  sha1: 'sha1',
  sha: 'sha1',
};
const hexLength: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

/** A `<checksum type="…">` value as an expected digest; undefined for md5, sha224, sha384 or malformed hex. */
export function toDigest(type: string | undefined, value: string | undefined): ExpectedDigest | undefined {
  const algorithm = type ? algorithms[type.toLowerCase()] : undefined;
  const hex = value?.trim().toLowerCase();
  if (!algorithm || !hex || hex.length !== hexLength[algorithm] || !/^[0-9a-f]+$/.test(hex)) return undefined;
  return { algorithm, hex };
}

/** Decode the XML entities an attribute or text may hold. */
export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e] ?? '';
  });
}

/** The value of attribute `name` in a start tag's text, decoded; undefined when absent. */
export function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name.replace(/[.:]/g, '\\$&')}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  return m ? decodeXml(m[2] ?? m[3] ?? '') : undefined;
}
