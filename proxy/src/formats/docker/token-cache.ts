import type { Clock } from '../../clock.ts';

interface Entry {
  token: string;
  expiresAt: number;
}

export interface TokenGrant {
  token: string;
  expiresInS: number;
}

/** Most tokens kept; the oldest go first. Scopes are per repository, so this bounds memory, not correctness. */
const maxEntries = 4096;

/**
 * Bearer tokens by (remote, scope), kept until shortly before they expire
 * (the lifetime counts from receipt, so a token server's clock skew does not
 * matter). Concurrent requests for the same scope share one token fetch.
 * Process-local: each replica fetches its own tokens, which token servers
 * expect. Safe for concurrent use.
 */
export class TokenCache {
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<string | undefined>>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The cached token, or `undefined` when there is none or it is about to expire. */
  get(remote: string, scope: string): string | undefined {
    const k = key(remote, scope);
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (e.expiresAt > this.clock.now()) return e.token;
    this.entries.delete(k);
    return undefined;
  }

  delete(remote: string, scope: string): void {
    this.entries.delete(key(remote, scope));
  }

  /**
   * Run `fetch` unless a fetch for the same key is already running (then
   * share its result); cache what it grants. Rejections are shared too and
   * nothing is cached for them.
   */
  fetchOnce(
    remote: string,
    scope: string,
    fetch: () => Promise<TokenGrant | undefined>,
  ): Promise<string | undefined> {
    const k = key(remote, scope);
    const running = this.inflight.get(k);
    if (running) return running;
    const p = (async () => {
      try {
        const grant = await fetch();
        if (!grant) return undefined;
        const lifetimeMs = grant.expiresInS * 1000;
        // Renew a little early so a token never expires between our check and the upstream's.
        const margin = Math.min(10_000, lifetimeMs / 4);
        this.set(k, { token: grant.token, expiresAt: this.clock.now() + lifetimeMs - margin });
        return grant.token;
      } finally {
        this.inflight.delete(k);
      }
    })();
    this.inflight.set(k, p);
    return p;
  }

  get size(): number {
    return this.entries.size;
  }

  private set(k: string, e: Entry): void {
    this.entries.delete(k);
    this.entries.set(k, e);
    while (this.entries.size > maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

function key(remote: string, scope: string): string {
  return `${remote}\u0000${scope}`;
}
