import type { RemoteConfig } from '../../config/index.ts';
import type { BuiltinClass, Format, IndexHandler } from '../format.ts';
import { registerFormat } from '../registry.ts';
import { encodeSegment, joinUrl } from '../url.ts';
import { mergePackuments } from './merge.ts';
import { abbreviatedSuffix, canonicalNpmPath, parseNpmPath, prepareNpmPath } from './names.ts';
import { rewritePackument } from './packument.ts';

export { tarballDigest } from './integrity.ts';
export { parseNpmPath } from './names.ts';

/** Packuments of 30 MB exist (vite, next); refuse beyond this unless `maxIndexBytes` says otherwise. */
export const defaultMaxPackumentBytes = 64 * 1024 * 1024;

const packumentHandler: IndexHandler = { maxBytes: defaultMaxPackumentBytes, rewrite: rewritePackument };

/**
 * npm registries (the public registry, Verdaccio, GitHub Packages, Nexus…).
 * - Packuments (`{name}`, `@scope/name`, sent as `@scope%2fname` too) are
 *   built-in mutable indexes, rewritten once per fill so `dist.tarball` routes
 *   through the remote; the abbreviated form (`Accept:
 *   application/vnd.npm.install-v1+json`) is cached separately as
 *   `{name}#install-v1`. Version manifests (`{name}/{version}`) likewise.
 * - Tarballs (`{name}/-/{file}.tgz`) are verified against the packument's
 *   `dist.integrity` (sha512) or `dist.shasum`; the remote's patterns decide
 *   which are allowed.
 * - Everything else (`-/…` registry endpoints) is passed through.
 */
export const npmFormat: Format = {
  name: 'npm',
  classify(path: string): BuiltinClass | undefined {
    const p = parseNpmPath(path);
    return p.kind === 'packument' || p.kind === 'version' ? 'mutable-builtin' : undefined;
  },
  preparePath: prepareNpmPath,
  requestPath(path: string, request: { accept?: string }): string {
    return canonicalNpmPath(path, request.accept);
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
    const p = parseNpmPath(path);
    const base = remote.baseUrl.endsWith('/') ? remote.baseUrl : `${remote.baseUrl}/`;
    // Registries take a scoped packument as one segment, `@scope%2fname`.
    if (p.kind === 'packument') return base + p.name.split('/').map(encodeSegment).join('%2f');
    return joinUrl(
      remote.baseUrl,
      path.endsWith(abbreviatedSuffix) ? path.slice(0, -abbreviatedSuffix.length) : path,
    );
  },
  upstreamHeaders(_remote: RemoteConfig, path: string): Record<string, string> {
    // The full packument even for the abbreviated variant: only it has `time`, needed for quarantine.
    const kind = parseNpmPath(path).kind;
    return kind === 'packument' || kind === 'version' ? { accept: 'application/json' } : {};
  },
  hintSource(path: string): string | undefined {
    const p = parseNpmPath(path);
    return p.kind === 'tarball' ? p.name : undefined;
  },
  indexHandler(path: string): IndexHandler | undefined {
    const kind = parseNpmPath(path).kind;
    return kind === 'packument' || kind === 'version' ? packumentHandler : undefined;
  },
  contentType(path: string): string | undefined {
    return parseNpmPath(path).kind === 'tarball' ? 'application/octet-stream' : undefined;
  },
  mergeIndexes: mergePackuments,
};

registerFormat(npmFormat);
