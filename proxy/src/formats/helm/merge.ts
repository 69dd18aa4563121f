import type { MergeInput, RewriteOutput } from '../format.ts';
import {
  type ChartEntry,
  indexContentType,
  parseRepoIndex,
  type RepoIndex,
  renderRepoIndex,
} from './index-yaml.ts';

/**
 * Merge the (already rewritten) `index.yaml` of a virtual repository's
 * members, as the seed does: the union of their charts, the first member
 * winning when two list the same name and version. Chart URLs become absolute
 * URLs of the member remote, so downloads bypass the virtual endpoint.
 */
export async function mergeRepoIndexes(input: MergeInput): Promise<RewriteOutput> {
  const merged: RepoIndex = { apiVersion: 'v1', entries: {} };
  const seen = new Set<string>();
  for (const m of input.members) {
    const index = parseRepoIndex(m.body);
    merged.generated ??= index.generated;
    const memberIndexUrl = `${m.proxyBase}/${input.path}`;
    for (const [name, list] of Object.entries(index.entries)) {
      for (const entry of list) {
        const key = `${name}\u0000${String(entry.version)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const out: ChartEntry = { ...entry };
        if (Array.isArray(entry.urls)) {
          out.urls = entry.urls.map((u) => (typeof u === 'string' ? absolute(u, memberIndexUrl) : u));
        }
        const list = merged.entries[name] ?? [];
        list.push(out);
        merged.entries[name] = list;
      }
    }
  }
  return { body: renderRepoIndex(merged), contentType: indexContentType };
}

function absolute(url: string, base: string): string {
  try {
    return new URL(url, base).toString();
  } catch {
    return url;
  }
}
