import type { RemoteConfig } from '../../config/index.ts';
import type { BuiltinClass, Format } from '../format.ts';
import { registerFormat } from '../registry.ts';
import { joinUrl } from '../url.ts';

const indexName = 'APKINDEX.tar.gz';

function isApkIndex(path: string): boolean {
  return path === indexName || path.endsWith(`/${indexName}`);
}

/**
 * Alpine Linux repositories for apk (`alpine`): `<branch>/<repo>/<arch>/`
 * directories holding one signed `APKINDEX.tar.gz` and the `.apk` packages.
 * - `APKINDEX.tar.gz` is built-in mutable (seed: "a built-in mutable pattern")
 *   and stored as sent: apk checks its signature.
 * - Packages (`.apk`) are left to the remote's patterns (no patterns:
 *   allowed, immutable), so `immutablePatterns` remain an allowlist.
 * - No expected digest: an index entry's `C:` is the SHA1 of the package's
 *   control segment (its second gzip stream), not of the file, so a whole-file
 *   check against it is impossible; apk verifies packages itself on install.
 *   See docs/formats/alpine.md.
 */
export const alpineFormat: Format = {
  name: 'alpine',
  classify(path: string): BuiltinClass | undefined {
    return isApkIndex(path) ? 'mutable-builtin' : undefined;
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
    return joinUrl(remote.baseUrl, path);
  },
  contentType(path: string): string | undefined {
    if (isApkIndex(path)) return 'application/gzip';
    return path.endsWith('.apk') ? 'application/octet-stream' : undefined;
  },
};

registerFormat(alpineFormat);
