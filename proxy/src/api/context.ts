import type Koa from 'koa';
import type { ProxyDeps } from '../http/app.ts';
import type { ExtractorRegistry } from '../metadata/index.ts';

/** What the hosted API's handlers share: the proxy's deps plus the API's own settings. */
export interface HostedDeps extends ProxyDeps {
  extractors: ExtractorRegistry;
  limits: HostedLimits;
  /** Materialises configured projects/packages; set once mounted. */
  configSync?: { syncIfChanged(): Promise<boolean> };
}

export interface HostedLimits {
  /** Largest upload in bytes; 0 = unlimited. From `ORCHARD_MAX_UPLOAD_BYTES`. */
  maxUploadBytes: number;
  /** Part size `init` recommends. Every part but the last must be at least the store's MIN_PART_SIZE. */
  chunkSize: number;
  /** How long a resumable session lives without receiving a part. */
  sessionTtlMs: number;
  /** How long `complete` may take before the sweeper treats its replica as dead. */
  completeTimeoutMs: number;
  /** Age after which an orphaned temporary upload object is deleted. */
  tempObjectTtlMs: number;
}

export const defaultHostedLimits: HostedLimits = {
  maxUploadBytes: 0,
  chunkSize: 10 * 1024 * 1024,
  sessionTtlMs: 24 * 60 * 60 * 1000,
  completeTimeoutMs: 6 * 60 * 60 * 1000,
  tempObjectTtlMs: 24 * 60 * 60 * 1000,
};

/** Who is acting. Authentication (when it lands) sets `ctx.state.user`; until then everyone is `anonymous`. */
export function actorOf(ctx: Koa.Context): string {
  const user = (ctx.state as { user?: { name?: string } | string }).user;
  if (typeof user === 'string' && user) return user;
  if (user && typeof user === 'object' && user.name) return user.name;
  return 'anonymous';
}

/** The client address for upload and audit records (ctx.ip honours X-Forwarded-For behind a proxy). */
export function sourceIpOf(ctx: Koa.Context): string | null {
  return ctx.ip || null;
}
