import type { MergeInput, RewriteOutput } from '../format.ts';
import { encodeSegment } from '../url.ts';
import { simpleContentTypes } from './accept.ts';
import { jsonSuffix, normalizeProjectName, parsePypiPath } from './names.ts';
import { parseProjectPage, parseRootPage } from './simple-parse.ts';
import {
  type PublishedFile,
  renderProjectHtml,
  renderProjectJson,
  renderRootHtml,
  renderRootJson,
} from './simple-render.ts';

/**
 * Merge the (already rewritten) pages of a virtual repository's members:
 * project pages list the union of their files, the first member winning when
 * two offer the same file name; the root lists every project once. File URLs
 * become absolute URLs of the member remote that offers them, so downloads go
 * straight to that member (and its cache, integrity and quarantine).
 */
export async function mergeSimple(input: MergeInput): Promise<RewriteOutput> {
  const p = parsePypiPath(input.path);
  if (p.kind === 'file') throw new Error(`not a simple page: ${input.path}`);
  const bare = p.variant === 'json' ? input.path.slice(0, -jsonSuffix.length) : input.path;
  const contentType = simpleContentTypes[p.variant];
  if (p.kind === 'root') {
    const names = new Set<string>();
    for (const m of input.members)
      for (const n of parseRootPage(m.body, m.contentType).projects) names.add(normalizeProjectName(n));
    const projects = [...names].sort().map((name) => ({ name, href: `${encodeSegment(name)}/` }));
    return { body: p.variant === 'json' ? renderRootJson(projects) : renderRootHtml(projects), contentType };
  }
  const byName = new Map<string, PublishedFile>();
  const versions = new Set<string>();
  let name = p.project;
  let sawVersions = false;
  for (const [i, m] of input.members.entries()) {
    const page = parseProjectPage(m.body, m.contentType, `${m.proxyBase}/${bare}`, p.project);
    if (i === 0 || name === p.project) name = page.name;
    for (const f of page.files) {
      if (byName.has(f.filename)) continue;
      const { url, ...rest } = f;
      byName.set(f.filename, { ...rest, href: url });
    }
    if (page.versions) {
      sawVersions = true;
      for (const v of page.versions) versions.add(v);
    }
  }
  const merged = { name, files: [...byName.values()], versions: sawVersions ? [...versions] : undefined };
  return { body: p.variant === 'json' ? renderProjectJson(merged) : renderProjectHtml(merged), contentType };
}
