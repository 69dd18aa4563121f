import type { RemoteConfig } from '../../config/index.ts';
import type {
  ArtifactHint,
  BuiltinClass,
  ExpectedDigest,
  Format,
  IndexHandler,
  RewriteInput,
} from '../format.ts';
import { registerFormat } from '../registry.ts';
import { joinUrl } from '../url.ts';
import { openIndex } from './decompress.ts';
import { scanPackageIndex } from './packages.ts';
import {
  byHashDigest,
  isByHash,
  isByHashPackageIndex,
  isInDists,
  isPackageIndex,
  isReleaseFile,
  packageRootOf,
} from './paths.ts';
import { parseReleaseHints } from './release.ts';

/** A compressed Packages/Sources file larger than this is refused (502) unless `maxIndexBytes` says otherwise. */
export const defaultMaxPackageIndexBytes = 256 * 1024 * 1024;
/** Decompressed bytes read from one index before giving up on its hints (Debian main amd64 is ~50 MB). */
const maxDecompressedBytes = 2 * 1024 * 1024 * 1024;
const maxReleaseBytes = 16 * 1024 * 1024;

const releaseHandler: IndexHandler = {
  maxBytes: maxReleaseBytes,
  async rewrite({ path, body }: RewriteInput) {
    return { body, hints: parseReleaseHints(path, body.toString('utf8')) };
  },
};

const packageIndexHandler: IndexHandler = {
  maxBytes: defaultMaxPackageIndexBytes,
  async rewrite({ path, body }: RewriteInput) {
    return { body, hints: await packageHints(path, body) };
  },
};

/**
 * The package digests of a Packages or Sources index. The index is stored as
 * the upstream sent it (apt checks it against the Release, and its Filename
 * paths are relative, so they already route through the proxy). An index that
 * cannot be decompressed (no `xz` binary, a compression Node cannot read)
 * yields no hints: its packages are then served unverified, not refused.
 */
async function packageHints(path: string, body: Buffer): Promise<ArtifactHint[]> {
  const text = openIndex(body, { maxBytes: maxDecompressedBytes });
  try {
    return await scanPackageIndex(text, packageRootOf(path));
  } catch {
    return [];
  } finally {
    text.destroy();
  }
}

/**
 * Debian repositories for apt (`deb`), archive layout (`dists/`, `pool/`) or flat.
 * - `dists/**` (InRelease, Release, Packages, Sources, Translation, …) and the
 *   Release and Packages files of flat repositories are built-in mutable.
 * - `by-hash/<Algorithm>/<hex>` files are content-addressed: immutable and
 *   verified against the digest in their path.
 * - A Release file's checksums become hints for the indexes it lists: each is
 *   verified against them, and a cached index stays current while its digest
 *   is the one the latest Release lists (`pinnedByHint`), so apt never sees a
 *   Packages file that disagrees with the InRelease it was just served.
 * - Packages and Sources indexes (also when fetched by hash) become hints for
 *   the package files they list, which are then verified against their SHA256.
 * - Package files (`pool/**.deb`, …) are left to the remote's patterns (no
 *   patterns: allowed, immutable), so `immutablePatterns` remain an allowlist.
 */
export const debFormat: Format = {
  name: 'deb',
  classify(path: string): BuiltinClass | undefined {
    if (isByHash(path)) return 'immutable-builtin';
    if (isReleaseFile(path) || isPackageIndex(path) || isInDists(path)) return 'mutable-builtin';
    return undefined;
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
    return joinUrl(remote.baseUrl, path);
  },
  digestFromPath(path: string): ExpectedDigest | undefined {
    return byHashDigest(path);
  },
  indexHandler(path: string): IndexHandler | undefined {
    if (isReleaseFile(path)) return path.endsWith('.gpg') ? undefined : releaseHandler;
    if (isPackageIndex(path) || isByHashPackageIndex(path)) return packageIndexHandler;
    return undefined;
  },
  pinnedByHint(path: string): boolean {
    return !isByHash(path) && !isReleaseFile(path) && (isInDists(path) || isPackageIndex(path));
  },
  contentType(path: string): string | undefined {
    if (path.endsWith('.deb') || path.endsWith('.udeb')) return 'application/vnd.debian.binary-package';
    if (isReleaseFile(path)) return path.endsWith('.gpg') ? 'application/pgp-signature' : 'text/plain';
    if (path.endsWith('.gz')) return 'application/gzip';
    if (path.endsWith('.xz')) return 'application/x-xz';
    return undefined;
  },
};

registerFormat(debFormat);
