import { ApiError } from '../../http/errors.ts';

/**
 * PyPI path rules. The cache paths of a pypi remote are:
 * - `simple/` — the root index (every project);
 * - `simple/{project}/` — a project page, `{project}` PEP 503-normalized;
 * - either of them with a `#json` suffix — the PEP 691 JSON variant of the
 *   same page (see `requestPath`); without it, the PEP 503 HTML page;
 * - anything else — a file (wheel, sdist, PEP 658 `.metadata`), at the path
 *   its URL has on the upstream (relative to `baseUrl`, else the URL's path).
 */
export type PypiPath =
  | { kind: 'root'; variant: SimpleVariant; slash: true }
  | { kind: 'project'; project: string; variant: SimpleVariant; slash: boolean }
  | { kind: 'file'; path: string };

export type SimpleVariant = 'html' | 'json';

export const jsonSuffix = '#json';

// PEP 508 names: letters, digits, `.`, `_`, `-`, starting and ending alphanumeric.
const projectName = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/;

/** PEP 503 normalization: lower case, runs of `-`, `_` and `.` become one `-`. */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

export function isValidProjectName(name: string): boolean {
  return name.length <= 200 && projectName.test(name);
}

/** Parse a cache path (variant suffix included). */
export function parsePypiPath(path: string): PypiPath {
  const variant: SimpleVariant = path.endsWith(jsonSuffix) ? 'json' : 'html';
  const bare = variant === 'json' ? path.slice(0, -jsonSuffix.length) : path;
  if (bare === 'simple/') return { kind: 'root', variant, slash: true };
  const m = /^simple\/([^/]+)(\/?)$/.exec(bare);
  if (m) return { kind: 'project', project: m[1]!, variant, slash: m[2] === '/' };
  return { kind: 'file', path };
}

/** The cache path of a page in the given variant. */
export function simplePagePath(page: { project?: string; slash?: boolean }, variant: SimpleVariant): string {
  const bare =
    page.project === undefined ? 'simple/' : `simple/${page.project}${page.slash === false ? '' : '/'}`;
  return variant === 'json' ? bare + jsonSuffix : bare;
}

/**
 * Canonicalize a guarded request path: project names are PEP 503-normalized
 * (pip does it, other clients may not) and `variant` picks the representation.
 * A project name outside PEP 508, or any `#` (reserved for variants), is 400.
 */
export function canonicalPypiPath(path: string, variant: SimpleVariant): string {
  if (path.includes('#')) throw new ApiError('INVALID_PATH', 'invalid path: `#` is not allowed');
  const p = parsePypiPath(path);
  if (p.kind === 'file') return path;
  if (p.kind === 'root') return simplePagePath({}, variant);
  if (!isValidProjectName(p.project)) {
    throw new ApiError('INVALID_NAME', `${JSON.stringify(p.project)} is not a valid Python project name`);
  }
  return simplePagePath({ project: normalizeProjectName(p.project), slash: p.slash }, variant);
}

const fileSuffixes = [
  '.whl',
  '.tar.gz',
  '.zip',
  '.tar.bz2',
  '.tar.xz',
  '.tgz',
  '.egg',
  '.exe',
  '.msi',
  '.rpm',
];

/**
 * The normalized project and version a distribution file belongs to, from its
 * name: wheels are `{name}-{version}(-{build})?-{py}-{abi}-{platform}.whl`,
 * sdists `{name}-{version}.tar.gz` (whose legacy names may hold `-`, so the
 * version is after the last one). A PEP 658 `.metadata` file belongs to its
 * distribution. `undefined` for names that fit neither.
 */
export function distributionOf(fileName: string): { project: string; version: string } | undefined {
  const name = fileName.endsWith('.metadata') ? fileName.slice(0, -'.metadata'.length) : fileName;
  if (name.endsWith('.whl')) {
    const parts = name.slice(0, -4).split('-');
    if (parts.length < 5) return undefined;
    return { project: normalizeProjectName(parts[0]!), version: parts[1]! };
  }
  const suffix = fileSuffixes.find((s) => name.endsWith(s));
  if (!suffix) return undefined;
  const stem = name.slice(0, -suffix.length);
  const dash = stem.lastIndexOf('-');
  if (dash <= 0 || dash === stem.length - 1) return undefined;
  return { project: normalizeProjectName(stem.slice(0, dash)), version: stem.slice(dash + 1) };
}
