import type { CacheEngine } from '../../cache/index.ts';

/** Tag→digest pairs remembered per process; the oldest go first. */
const maxAliases = 10_000;

/**
 * Which tag manifest (cache path) last had which digest, so a pull by digest
 * right after a pull by tag is served from the copy the tag's fill stored
 * instead of fetching the same manifest from the upstream again. containerd
 * does exactly that (resolve the tag, then fetch by digest), and Docker Hub
 * counts both GETs against its pull limits.
 *
 * The copy is adopted (indexed under the digest path) only when its stored
 * sha256 equals the digest asked for, so a lying upstream header cannot
 * poison it. Process-local and bounded: on another replica, or after the
 * tag's entry changed, the digest is simply fetched. Safe for concurrent use.
 */
export class TagAliases {
  private readonly byDigest = new Map<string, string>();

  /** Remember that `tagPath` of `remote` had the manifest with sha256 `hex`. */
  remember(remote: string, hex: string, tagPath: string): void {
    const key = `${remote}\u0000${hex}`;
    this.byDigest.delete(key);
    this.byDigest.set(key, tagPath);
    if (this.byDigest.size > maxAliases) this.byDigest.delete(this.byDigest.keys().next().value!);
  }

  /**
   * Before fetching `digestPath` (a digest manifest of `remote`): when it is
   * not cached but a remembered tag's entry holds these very bytes, index
   * them under `digestPath` as well (immutable, like any digest).
   */
  async adopt(engine: CacheEngine, remote: string, hex: string, digestPath: string): Promise<void> {
    const tagPath = this.byDigest.get(`${remote}\u0000${hex}`);
    if (
      !tagPath ||
      tagPath.slice(0, tagPath.lastIndexOf('/manifests/')) !==
        digestPath.slice(0, digestPath.lastIndexOf('/manifests/'))
    )
      return;
    if (await engine.index.get(remote, digestPath)) return;
    const tag = await engine.index.get(remote, tagPath);
    if (tag?.digest !== hex) return;
    // Token 0: never replaces a row a real fill wrote (their tokens are larger).
    await engine.index.put({ ...tag, path: digestPath, mutable: false }, 0);
  }
}
