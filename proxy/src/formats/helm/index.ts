import type { RemoteConfig } from '../../config/index.ts';
import type { BuiltinClass, Format, IndexHandler } from '../format.ts';
import { registerFormat } from '../registry.ts';
import { joinUrl } from '../url.ts';
import { mergeRepoIndexes } from './merge.ts';
import { rewriteRepoIndex } from './rewrite.ts';

/** A repository index larger than this is refused (502) unless the remote's `maxIndexBytes` says otherwise. */
export const defaultMaxRepoIndexBytes = 64 * 1024 * 1024;

const repoIndexHandler: IndexHandler = { maxBytes: defaultMaxRepoIndexBytes, rewrite: rewriteRepoIndex };

function isRepoIndex(path: string): boolean {
  return path === 'index.yaml' || path.endsWith('/index.yaml');
}

/**
 * Helm chart repositories (HTTP, `index.yaml` + chart `.tgz`).
 * - `index.yaml` is a built-in mutable index, rewritten once per fill so chart
 *   URLs route through the remote, with entries in quarantine hidden.
 * - Charts (`.tgz`, `.prov`) come from `baseUrl`, verified against the
 *   index's `digest`; the remote's patterns decide which are allowed.
 */
export const helmFormat: Format = {
  name: 'helm',
  classify(path: string): BuiltinClass | undefined {
    return isRepoIndex(path) ? 'mutable-builtin' : undefined;
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
    return joinUrl(remote.baseUrl, path);
  },
  hintSource(path: string): string | undefined {
    // Charts may live anywhere below the repository; its index is at the root.
    return path.endsWith('.tgz') ? 'index.yaml' : undefined;
  },
  indexHandler(path: string): IndexHandler | undefined {
    return isRepoIndex(path) ? repoIndexHandler : undefined;
  },
  contentType(path: string): string | undefined {
    if (path.endsWith('.tgz')) return 'application/gzip';
    return isRepoIndex(path) ? 'application/x-yaml' : undefined;
  },
  mergeIndexes: mergeRepoIndexes,
};

registerFormat(helmFormat);
