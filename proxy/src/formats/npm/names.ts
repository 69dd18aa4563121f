import { ApiError } from '../../http/errors.ts';

/**
 * npm path rules. Cache paths of an npm remote (names decoded; a scoped name
 * is `@scope/name`, whatever form the client sent):
 * - `{name}` — the full packument; `{name}#install-v1` — the abbreviated one
 *   (`Accept: application/vnd.npm.install-v1+json`), cached separately;
 * - `{name}/{version-or-tag}` — one version's manifest;
 * - `{name}/-/{file}.tgz` — a tarball;
 * - anything else (`-/v1/search`, `-/ping`, …) — passed through as is.
 */
export type NpmPath =
  | { kind: 'packument'; name: string; abbreviated: boolean }
  | { kind: 'version'; name: string; version: string }
  | { kind: 'tarball'; name: string; file: string }
  | { kind: 'other' };

export const abbreviatedSuffix = '#install-v1';
export const abbreviatedType = 'application/vnd.npm.install-v1+json';

// validate-npm-package-name, plus the uppercase legacy names still served.
const namePart = /^[A-Za-z0-9~-][A-Za-z0-9._~-]*$/;
const scopePart = /^@[A-Za-z0-9~-][A-Za-z0-9._~-]*$/;

export function isValidPackageName(name: string): boolean {
  if (name.length === 0 || name.length > 214) return false;
  const parts = name.split('/');
  if (parts.length === 1) return namePart.test(parts[0]!);
  return parts.length === 2 && scopePart.test(parts[0]!) && namePart.test(parts[1]!);
}

/** Parse a cache path (variant suffix included). */
export function parseNpmPath(path: string): NpmPath {
  const abbreviated = path.endsWith(abbreviatedSuffix);
  const bare = abbreviated ? path.slice(0, -abbreviatedSuffix.length) : path;
  const segs = bare.split('/');
  if (segs[0] === '-' || segs[0] === '' || bare.endsWith('/')) return { kind: 'other' };
  const scoped = segs[0]!.startsWith('@');
  if (scoped && segs.length < 2) return { kind: 'other' };
  const name = scoped ? `${segs[0]}/${segs[1]}` : segs[0]!;
  const rest = segs.slice(scoped ? 2 : 1);
  if (rest.length === 0) return { kind: 'packument', name, abbreviated };
  if (abbreviated) return { kind: 'other' };
  if (rest.length === 1) return { kind: 'version', name, version: rest[0]! };
  if (rest.length === 2 && rest[0] === '-' && rest[1]!.endsWith('.tgz'))
    return { kind: 'tarball', name, file: rest[1]! };
  return { kind: 'other' };
}

/** The cache path of a package's tarball. */
export function tarballPath(name: string, file: string): string {
  return `${name}/-/${file}`;
}

/**
 * npm sends scoped names as `@scope%2fname` (one segment); the path guard
 * rejects encoded slashes, so turn exactly that one into a real separator.
 */
export function prepareNpmPath(rawPath: string): string {
  return rawPath.replace(/^(@[^/%]+)%2[fF]/, '$1/');
}

/**
 * Canonicalize a guarded request path and pick the packument variant from
 * Accept. Package names outside npm's rules are 400 (`#` is reserved for
 * variants).
 */
export function canonicalNpmPath(path: string, accept: string | undefined): string {
  if (path.includes('#')) throw new ApiError('INVALID_PATH', 'invalid path: `#` is not allowed');
  const p = parseNpmPath(path);
  if (p.kind === 'other') return path;
  if (!isValidPackageName(p.name))
    throw new ApiError('INVALID_NAME', `${JSON.stringify(p.name)} is not a valid npm package name`);
  return p.kind === 'packument' && wantsAbbreviated(accept) ? path + abbreviatedSuffix : path;
}

/** Whether the client accepts the abbreviated packument (npm install does; `npm view` does not). */
export function wantsAbbreviated(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (type !== abbreviatedType) return false;
    const q = params.find((x) => x.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
