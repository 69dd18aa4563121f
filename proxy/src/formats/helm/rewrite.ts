import type { RemoteConfig } from '../../config/index.ts';
import type { ArtifactHint, ExpectedDigest, RewriteInput, RewriteOutput } from '../format.ts';
import { decodeSafePath } from '../pypi/urls.ts';
import { encodeSegment, joinUrl } from '../url.ts';
import {
  type ChartEntry,
  indexContentType,
  parseRepoIndex,
  parseTime,
  renderRepoIndex,
} from './index-yaml.ts';

/**
 * Rewrite a repository `index.yaml` ONCE, when it is cached (indexes of 10k+
 * charts are parsed once per fill, never per hit): chart URLs on the
 * upstream — relative, or absolute below `baseUrl` — become URLs relative to
 * the index, so `helm pull` fetches them through this remote whatever host
 * name it used. Entries in quarantine (by `created`) are dropped. Hints carry
 * each chart's `digest` (sha256) and `created`. Absolute URLs on other hosts
 * are left alone: this remote can only fetch from `baseUrl`.
 */
export async function rewriteRepoIndex(input: RewriteInput): Promise<RewriteOutput> {
  const index = parseRepoIndex(input.body);
  const indexUrl = joinUrl(baseOf(input.remote), input.path);
  const indexDir = input.path.includes('/') ? input.path.slice(0, input.path.lastIndexOf('/') + 1) : '';
  const hints: ArtifactHint[] = [];
  for (const [name, list] of Object.entries(index.entries)) {
    const kept: ChartEntry[] = [];
    for (const entry of list) {
      const urls = Array.isArray(entry.urls) ? entry.urls : [];
      const paths = urls.map((u) =>
        typeof u === 'string' ? chartPath(input.remote, indexUrl, u) : undefined,
      );
      const published = parseTime(entry.created);
      // Hidden entries keep their hints: they are what refuses a direct download (404) while in quarantine.
      for (const p of paths)
        if (p !== undefined)
          hints.push({ path: p, digest: chartDigest(entry.digest), publishedAt: published });
      const primary = paths.find((p) => p !== undefined);
      if (primary !== undefined && input.isQuarantined?.(primary, published)) continue;
      entry.urls = urls.map((u, i) => {
        const p = paths[i];
        return p === undefined ? u : relativeTo(indexDir, p);
      });
      kept.push(entry);
    }
    if (kept.length > 0) index.entries[name] = kept;
    else delete index.entries[name];
  }
  return { body: renderRepoIndex(index), contentType: indexContentType, hints };
}

function baseOf(remote: RemoteConfig): string {
  if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
  return remote.baseUrl;
}

/** The cache path of a chart URL below `baseUrl`, or `undefined` (another host, or a path no request could name). */
export function chartPath(remote: RemoteConfig, indexUrl: string, url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url, indexUrl);
  } catch {
    return undefined;
  }
  const base = new URL(baseOf(remote));
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  if (u.origin !== base.origin || !u.pathname.startsWith(prefix) || u.search !== '') return undefined;
  return decodeSafePath(u.pathname.slice(prefix.length));
}

function relativeTo(dir: string, path: string): string {
  const rel =
    dir !== '' && path.startsWith(dir)
      ? path.slice(dir.length)
      : `${'../'.repeat(dir.split('/').length - 1)}${path}`;
  return rel
    .split('/')
    .map((s) => (s === '..' ? s : encodeSegment(s)))
    .join('/');
}

function chartDigest(v: unknown): ExpectedDigest | undefined {
  if (typeof v !== 'string') return undefined;
  const hex = v.replace(/^sha256:/, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? { algorithm: 'sha256', hex } : undefined;
}
