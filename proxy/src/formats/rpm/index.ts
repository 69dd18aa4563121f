import type { RemoteConfig } from '../../config/index.ts';
import { openIndex } from '../deb/decompress.ts';
import type { ArtifactHint, BuiltinClass, Format, IndexHandler, RewriteInput } from '../format.ts';
import { registerFormat } from '../registry.ts';
import { joinUrl } from '../url.ts';
import {
  isContentNamed,
  isPrimary,
  isRepodata,
  isRepomd,
  isRepomdFile,
  repomdOf,
  repoRootOf,
} from './paths.ts';
import { scanPrimary } from './primary.ts';
import { parseRepomdHints } from './repomd.ts';

/** A compressed primary.xml larger than this is refused (502) unless `maxIndexBytes` says otherwise. */
export const defaultMaxPrimaryBytes = 256 * 1024 * 1024;
/** Decompressed bytes read from one primary.xml before giving up on its hints (Fedora's is a few hundred MB). */
const maxDecompressedBytes = 4 * 1024 * 1024 * 1024;

const repomdHandler: IndexHandler = {
  maxBytes: 16 * 1024 * 1024,
  async rewrite({ path, body }: RewriteInput) {
    return { body, hints: parseRepomdHints(path, body.toString('utf8')) };
  },
};

const primaryHandler: IndexHandler = {
  maxBytes: defaultMaxPrimaryBytes,
  async rewrite({ path, body }: RewriteInput) {
    return { body, hints: await primaryHints(path, body) };
  },
};

/**
 * The package checksums of a primary.xml. The document is stored as sent
 * (dnf checks it against repomd.xml, and its locations are relative). One that
 * cannot be decompressed (no `xz`/`bzip2` binary) yields no hints: its
 * packages are then served unverified, not refused.
 */
async function primaryHints(path: string, body: Buffer): Promise<ArtifactHint[]> {
  const text = openIndex(body, { maxBytes: maxDecompressedBytes });
  try {
    return await scanPrimary(text, repoRootOf(path));
  } catch {
    return [];
  } finally {
    text.destroy();
  }
}

/**
 * rpm-md repositories for dnf and yum (`rpm`).
 * - `repodata/repomd.xml` (and `.asc`, `.key`) is built-in mutable; its
 *   checksums become hints for the metadata files it lists.
 * - `repodata/<checksum>-<name>` files are content-named: immutable, verified
 *   against the repomd.xml checksum (fetching repomd.xml first if needed).
 *   Other `repodata/` files are built-in mutable, kept current exactly while
 *   their digest is the one repomd.xml lists (`pinnedByHint`).
 * - primary.xml (gz, zst, xz, bz2) becomes hints for the packages it lists, so
 *   each `.rpm` is verified against its `<checksum>`.
 * - Packages (`.rpm`) are left to the remote's patterns (no patterns:
 *   allowed, immutable), so `immutablePatterns` remain an allowlist.
 */
export const rpmFormat: Format = {
  name: 'rpm',
  classify(path: string): BuiltinClass | undefined {
    if (isContentNamed(path)) return 'immutable-builtin';
    if (isRepodata(path)) return 'mutable-builtin';
    // The seed lists `Packages.gz` among rpm's built-in mutable patterns (SUSE-style indexes).
    if (path === 'Packages.gz' || path.endsWith('/Packages.gz')) return 'mutable-builtin';
    return undefined;
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
    return joinUrl(remote.baseUrl, path);
  },
  hintSource(path: string): string | undefined {
    return isRepodata(path) && !isRepomdFile(path) ? repomdOf(path) : undefined;
  },
  indexHandler(path: string): IndexHandler | undefined {
    if (isRepomd(path)) return repomdHandler;
    return isPrimary(path) ? primaryHandler : undefined;
  },
  pinnedByHint(path: string): boolean {
    return isRepodata(path) && !isRepomdFile(path);
  },
  contentType(path: string): string | undefined {
    if (path.endsWith('.rpm')) return 'application/x-rpm';
    if (path.endsWith('.xml')) return 'application/xml';
    if (path.endsWith('.asc')) return 'application/pgp-signature';
    if (path.endsWith('.gz')) return 'application/gzip';
    if (path.endsWith('.zst')) return 'application/zstd';
    if (path.endsWith('.xz')) return 'application/x-xz';
    return undefined;
  },
};

registerFormat(rpmFormat);
