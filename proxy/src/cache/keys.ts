/**
 * Coordinator key and channel names used by the cache, in one place. Every
 * name starts with `cache:` and a kind, then the remote, so flushes can drop a
 * remote's state with one `deletePrefix`. Remote names cannot contain `:`.
 */
export const coordKeys = {
  /** Present (value: sha256) while a mutable entry is fresh; its TTL is mutableTtl. */
  fresh: (remote: string, path: string) => `cache:fresh:${remote}:${path}`,
  /** Present while an upstream 404 is remembered; its TTL is negativeTtl. */
  negative: (remote: string, path: string) => `cache:neg:${remote}:${path}`,
  /** The last fill's outcome (JSON `FillOutcome`), for followers on other replicas. */
  outcome: (remote: string, path: string) => `cache:outcome:${remote}:${path}`,
  /** Present while an index was just re-fetched to find a missing artifact hint (throttles re-fetches). */
  hintRefresh: (remote: string, path: string) => `cache:hintref:${remote}:${path}`,
  /** Upstream health (JSON), shared so any replica can answer the stats endpoint. */
  health: (remote: string) => `cache:health:${remote}`,
  /** The fill lock: one upstream fetch per key across replicas. */
  fillLock: (remote: string, path: string) => `cache:fill:${remote}:${path}`,
  /** Published after a fill ends (any outcome). */
  fillChannel: (remote: string, path: string) => `cache:filled:${remote}:${path}`,
  remotePrefix: (kind: 'fresh' | 'neg' | 'outcome', remote?: string) =>
    remote === undefined ? `cache:${kind}:` : `cache:${kind}:${remote}:`,
};

/** The in-process single-flight key. */
export function flightKey(remote: string, path: string): string {
  return `${remote}\u0000${path}`;
}

/** Published after a flush (message: the remote, or `*`): replicas forget remembered index rows. */
export const flushChannel = 'cache:flushed';
