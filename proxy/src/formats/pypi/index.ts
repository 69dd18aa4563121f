import type { RemoteConfig } from '../../config/index.ts';
import type { BuiltinClass, Format, IndexHandler } from '../format.ts';
import { registerFormat } from '../registry.ts';
import { joinUrl } from '../url.ts';
import { negotiateSimple, upstreamSimpleAccept } from './accept.ts';
import { mergeSimple } from './merge.ts';
import { canonicalPypiPath, distributionOf, parsePypiPath, simplePagePath } from './names.ts';
import { rewriteSimple } from './rewrite.ts';
import { pageUrl } from './urls.ts';

export { negotiateSimple } from './accept.ts';
export { distributionOf, normalizeProjectName } from './names.ts';

/** A simple page larger than this is refused (502) unless the remote's `maxIndexBytes` says otherwise. */
export const defaultMaxSimpleBytes = 64 * 1024 * 1024;

const simpleHandler: IndexHandler = { maxBytes: defaultMaxSimpleBytes, rewrite: rewriteSimple };

/**
 * PyPI and PEP 503/691 indexes (devpi, Nexus, Gitea, a plain directory tree).
 * - `simple/` and `simple/{project}/` are built-in mutable pages, fetched from
 *   the index root (`options.pypiIndexUrl`, default `{baseUrl}/simple/`) and
 *   negotiated by Accept: PEP 691 JSON and PEP 503 HTML are cached separately
 *   (`…/#json` is the JSON variant's cache path). Both are built from the
 *   upstream's JSON when it offers it (PEP 700 upload times for quarantine),
 *   else from its HTML.
 * - Files (wheels, sdists, PEP 658 `.metadata`) come from `baseUrl`, verified
 *   against the sha256 the cached page published; the remote's patterns
 *   decide which files are allowed.
 */
export const pypiFormat: Format = {
  name: 'pypi',
  classify(path: string): BuiltinClass | undefined {
    return parsePypiPath(path).kind === 'file' ? undefined : 'mutable-builtin';
  },
  requestPath(path: string, request: { accept?: string }): string {
    return canonicalPypiPath(path, negotiateSimple(request.accept));
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    const p = parsePypiPath(path);
    if (p.kind !== 'file') return pageUrl(remote, p);
    if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
    return joinUrl(remote.baseUrl, path);
  },
  upstreamHeaders(_remote: RemoteConfig, path: string): Record<string, string> {
    return parsePypiPath(path).kind === 'file' ? {} : { accept: upstreamSimpleAccept };
  },
  hintSource(path: string): string | undefined {
    const p = parsePypiPath(path);
    if (p.kind !== 'file') return undefined;
    const dist = distributionOf(path.slice(path.lastIndexOf('/') + 1));
    return dist ? simplePagePath({ project: dist.project }, 'html') : undefined;
  },
  indexHandler(path: string): IndexHandler | undefined {
    return parsePypiPath(path).kind === 'file' ? undefined : simpleHandler;
  },
  contentType(path: string): string | undefined {
    if (path.endsWith('.metadata')) return 'text/plain; charset=utf-8';
    if (path.endsWith('.whl') || path.endsWith('.zip') || path.endsWith('.egg')) return 'application/zip';
    if (path.endsWith('.tar.gz') || path.endsWith('.tgz')) return 'application/gzip';
    return undefined;
  },
  mergeIndexes: mergeSimple,
};

registerFormat(pypiFormat);
