import { ApiError } from '../../http/errors.ts';
import type { ArtifactHint, RewriteInput, RewriteOutput } from '../format.ts';
import { encodeSegment } from '../url.ts';
import { tarballDigest } from './integrity.ts';
import { abbreviatedType, parseNpmPath, tarballPath } from './names.ts';
import { fallbackVersion } from './semver.ts';

type Json = Record<string, unknown>;

export const fullType = 'application/json';

// The fields of a version in an abbreviated packument (npm's registry docs, "package-metadata").
const abbreviatedFields = [
  'name',
  'version',
  'deprecated',
  'dependencies',
  'optionalDependencies',
  'devDependencies',
  'bundleDependencies',
  'bundledDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'acceptDependencies',
  'bin',
  'directories',
  'dist',
  'engines',
  'funding',
  'license',
  '_hasShrinkwrap',
  'hasInstallScript',
  'cpu',
  'os',
  'libc',
];

export function malformed(what: string): ApiError {
  return new ApiError('UPSTREAM_ERROR', `the upstream npm document is malformed: ${what}`);
}

export function parseObject(body: Buffer): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw malformed(`invalid JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) throw malformed('not a JSON object');
  return doc;
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Rewrite a packument ONCE, when it is cached: every `dist.tarball` becomes an
 * absolute URL on this remote (npm needs absolute URLs), quarantined versions
 * leave `versions` and `time`, and dist-tags pointing at them move to the
 * newest allowed version below. The cache path picks the full or abbreviated
 * form; both are built from the full packument the upstream sent (it alone has
 * `time`). Hints carry each tarball's integrity and publish time.
 */
export async function rewritePackument(input: RewriteInput): Promise<RewriteOutput> {
  const p = parseNpmPath(input.path);
  if (p.kind === 'version') return rewriteVersion(input, p.name);
  if (p.kind !== 'packument') throw new Error(`not a packument: ${input.path}`);
  const doc = parseObject(input.body);
  const versions = doc.versions ?? {};
  if (!isObject(versions)) throw malformed('`versions` is not an object');
  const time = isObject(doc.time) ? doc.time : {};
  const name = typeof doc.name === 'string' ? doc.name : p.name;
  const hints: ArtifactHint[] = [];
  const hidden: string[] = [];
  for (const [version, manifest] of Object.entries(versions)) {
    if (!isObject(manifest)) throw malformed(`versions[${JSON.stringify(version)}] is not an object`);
    const published = parseTime(time[version]);
    const hint = pointTarball(input, name, manifest, published);
    // Hidden versions keep their hint: it is what refuses their tarball (404) when asked for directly.
    if (hint) hints.push(hint);
    if (hint && input.isQuarantined?.(hint.path, published)) {
      delete versions[version];
      delete time[version];
      hidden.push(version);
    }
  }
  doc.versions = versions;
  if (isObject(doc.time)) doc.time = time;
  moveDistTags(doc, hidden);
  if (!p.abbreviated) return { body: Buffer.from(JSON.stringify(doc)), contentType: fullType, hints };
  return { body: Buffer.from(JSON.stringify(abbreviate(doc))), contentType: abbreviatedType, hints };
}

/** One version's manifest (`{name}/{version}`): only its tarball URL changes. */
function rewriteVersion(input: RewriteInput, name: string): RewriteOutput {
  const manifest = parseObject(input.body);
  const hint = pointTarball(input, name, manifest, undefined);
  return { body: Buffer.from(JSON.stringify(manifest)), contentType: fullType, hints: hint ? [hint] : [] };
}

/** Point `manifest.dist.tarball` at this remote; the tarball's hint, or undefined without a usable URL. */
function pointTarball(
  input: RewriteInput,
  name: string,
  manifest: Json,
  publishedAt: Date | undefined,
): ArtifactHint | undefined {
  const dist = manifest.dist;
  if (!isObject(dist) || typeof dist.tarball !== 'string') return undefined;
  const file = tarballFile(dist.tarball);
  if (!file) return undefined;
  const path = tarballPath(name, file);
  dist.tarball = `${input.proxyBase}/${path.split('/').map(encodeSegment).join('/')}`;
  return { path, digest: tarballDigest(dist), publishedAt };
}

/** The file name at the end of a tarball URL, when it is a plain `.tgz` name. */
function tarballFile(url: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url, 'http://base.invalid/').pathname;
  } catch {
    return undefined;
  }
  let file: string;
  try {
    file = decodeURIComponent(pathname.slice(pathname.lastIndexOf('/') + 1));
  } catch {
    return undefined;
  }
  return /^[A-Za-z0-9~-][A-Za-z0-9._~+-]*\.tgz$/.test(file) ? file : undefined;
}

function moveDistTags(doc: Json, hidden: string[]): void {
  if (hidden.length === 0 || !isObject(doc['dist-tags'])) return;
  const tags = doc['dist-tags'];
  const gone = new Set(hidden);
  const remaining = Object.keys(doc.versions as Json);
  for (const [tag, version] of Object.entries(tags)) {
    if (typeof version !== 'string' || !gone.has(version)) continue;
    const to = fallbackVersion(version, remaining);
    if (to === undefined) delete tags[tag];
    else tags[tag] = to;
  }
}

/** The abbreviated ("corgi") form of a full packument. */
export function abbreviate(doc: Json): Json {
  const versions: Json = {};
  for (const [v, m] of Object.entries((doc.versions as Json) ?? {})) {
    if (!isObject(m)) continue;
    const out: Json = {};
    for (const f of abbreviatedFields) if (m[f] !== undefined) out[f] = m[f];
    if (out.hasInstallScript === undefined && hasInstallScript(m)) out.hasInstallScript = true;
    versions[v] = out;
  }
  const time = isObject(doc.time) ? doc.time : {};
  const modified = typeof time.modified === 'string' ? time.modified : doc.modified;
  const out: Json = { name: doc.name, 'dist-tags': doc['dist-tags'] ?? {}, versions };
  if (modified !== undefined) out.modified = modified;
  return out;
}

function hasInstallScript(m: Json): boolean {
  const s = m.scripts;
  return (
    isObject(s) && (s.preinstall !== undefined || s.install !== undefined || s.postinstall !== undefined)
  );
}

function parseTime(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}
