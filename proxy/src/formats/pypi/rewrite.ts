import type { ArtifactHint, ExpectedDigest, RewriteInput, RewriteOutput } from '../format.ts';
import { encodeSegment } from '../url.ts';
import { simpleContentTypes } from './accept.ts';
import {
  distributionOf,
  jsonSuffix,
  normalizeProjectName,
  parsePypiPath,
  type SimpleVariant,
} from './names.ts';
import { parseProjectPage, parseRootPage, type SimpleFile } from './simple-parse.ts';
import {
  type PublishedFile,
  type PublishedProject,
  renderProjectHtml,
  renderProjectJson,
  renderRootHtml,
  renderRootJson,
} from './simple-render.ts';
import { filePathOf, pageUrl, relativeHref } from './urls.ts';

/**
 * Rewrite an upstream simple page ONCE, when it is cached: parse it (JSON or
 * HTML, whatever the upstream answered), point every file at this remote with
 * a relative URL, drop quarantined files, and render the variant the cache
 * path names. Hints carry each file's sha256 and upload time (and those of its
 * PEP 658 metadata file) for the downloads' integrity and quarantine checks.
 * Throws ApiError UPSTREAM_ERROR for a malformed page.
 */
export async function rewriteSimple(input: RewriteInput): Promise<RewriteOutput> {
  const p = parsePypiPath(input.path);
  if (p.kind === 'file') throw new Error(`not a simple page: ${input.path}`);
  const bare = p.variant === 'json' ? input.path.slice(0, -jsonSuffix.length) : input.path;
  const url = pageUrl(input.remote, p);
  if (p.kind === 'root') {
    const names = [
      ...new Set(parseRootPage(input.body, input.contentType).projects.map(normalizeProjectName)),
    ];
    // The root page is `simple/`, so a project's page is simply `{name}/` below it.
    const projects = names.map((name) => ({ name, href: `${encodeSegment(name)}/` }));
    return render(p.variant, p.variant === 'json' ? renderRootJson(projects) : renderRootHtml(projects));
  }
  const page = parseProjectPage(input.body, input.contentType, url, p.project);
  const published = publishFiles(input, bare, page.files);
  const versions =
    page.versions && published.hidden.size > 0
      ? page.versions.filter((v) => !published.hidden.has(v))
      : page.versions;
  const out: PublishedProject = { name: page.name, files: published.files, versions };
  const body = p.variant === 'json' ? renderProjectJson(out) : renderProjectHtml(out);
  return { ...render(p.variant, body), hints: published.hints };
}

function render(variant: SimpleVariant, body: Buffer): RewriteOutput {
  return { body, contentType: simpleContentTypes[variant] };
}

interface Published {
  files: PublishedFile[];
  hints: ArtifactHint[];
  /** Versions all of whose files are quarantined. */
  hidden: Set<string>;
}

function publishFiles(input: RewriteInput, pagePath: string, files: SimpleFile[]): Published {
  const out: Published = { files: [], hints: [], hidden: new Set() };
  const kept = new Set<string>();
  for (const f of files) {
    const path = filePathOf(input.remote, f.url);
    if (path === undefined) continue;
    const publishedAt = parseTime(f.uploadTime);
    const version = distributionOf(f.filename)?.version;
    // Hidden files keep their hints: they are what refuses a direct download (404) while in quarantine.
    out.hints.push({ path, digest: bestDigest(f.hashes), publishedAt });
    if (f.coreMetadata !== undefined) {
      const digest = f.coreMetadata === true ? undefined : bestDigest(f.coreMetadata);
      out.hints.push({ path: `${path}.metadata`, digest, publishedAt });
    }
    if (input.isQuarantined?.(path, publishedAt)) {
      if (version) out.hidden.add(version);
      continue;
    }
    if (version) kept.add(version);
    const { url: _url, ...rest } = f;
    out.files.push({ ...rest, href: relativeHref(pagePath, path) });
  }
  for (const v of kept) out.hidden.delete(v);
  return out;
}

/** The strongest digest the engine can verify: sha256 (what pip checks), else sha512, else sha1. */
function bestDigest(hashes: Record<string, string>): ExpectedDigest | undefined {
  for (const algorithm of ['sha256', 'sha512', 'sha1'] as const) {
    const hex = hashes[algorithm];
    if (hex) return { algorithm, hex };
  }
  return undefined;
}

function parseTime(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}
