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
 * poison it. The other way round, a cold tag HEAD (answered by an upstream
 * HEAD, storing nothing) remembers the digest it named, so once that digest
 * is cached the tag is indexed to the same verified bytes (`adoptTag`).
 * Process-local and bounded: on another replica, or after the tag's entry
 * changed, the object is simply fetched. Safe for concurrent use.
 */
export class TagAliases {
  private readonly byDigest = new Map<string, string>();
  /** Tag path → sha256 hex an upstream HEAD named (a cold tag HEAD stores nothing). */
  private readonly probed = new Map<string, string>();

  /** Remember that `tagPath` of `remote` had the manifest with sha256 `hex`. */
  remember(remote: string, hex: string, tagPath: string): void {
    bounded(this.byDigest, `${remote}\u0000${hex}`, tagPath);
  }

  /** Remember that an upstream HEAD of the uncached `tagPath` of `remote` named sha256 `hex`. */
  rememberProbe(remote: string, tagPath: string, hex: string): void {
    bounded(this.probed, `${remote}\u0000${tagPath}`, hex);
  }

  /**
   * Before fetching `tagPath` (a tag manifest of `remote`): when it is not
   * cached, an earlier upstream HEAD of it named a digest, and that digest's
   * manifest is cached now (containerd: HEAD the tag, then GET the digest),
   * index those bytes under the tag too, as an entry that is not fresh: the
   * fetch revalidates it with a conditional HEAD (a 304 costs no download) and
   * from then on the tag is cached like any other (stale-on-error included).
   */
  async adoptTag(engine: CacheEngine, remote: string, tagPath: string): Promise<void> {
    const key = `${remote}\u0000${tagPath}`;
    const hex = this.probed.get(key);
    if (!hex) return;
    const digestPath = `${tagPath.slice(0, tagPath.lastIndexOf('/manifests/'))}/manifests/sha256:${hex}`;
    if (await engine.index.get(remote, tagPath)) {
      this.probed.delete(key);
      return;
    }
    const entry = await engine.index.get(remote, digestPath);
    if (entry?.digest !== hex) return;
    this.probed.delete(key);
    // Token 0: never replaces a row a real fill wrote. The ETag is the digest, as distribution sends it.
    await engine.index.put({ ...entry, path: tagPath, mutable: true, etag: `"sha256:${hex}"` }, 0);
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

/** Set `key` as the newest of `map`, dropping the oldest beyond `maxAliases`. */
function bounded(map: Map<string, string>, key: string, value: string): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > maxAliases) map.delete(map.keys().next().value!);
}
