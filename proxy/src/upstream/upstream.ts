import type { Readable } from 'node:stream';
import type { Credentials } from '../config/index.ts';

/**
 * Upstream sends one HTTP request to a remote's upstream and resolves when the
 * response headers arrive. It follows redirects itself and sends credentials
 * only to `credentialOrigin`. It never decompresses: the bytes cached are the
 * bytes the upstream serves. Safe to call concurrently.
 *
 * Errors: failures before the headers (connect, DNS, TLS, headers timeout,
 * redirect loop) reject with `UpstreamError`; failures in the body (reset,
 * short body, idle timeout) make `body` emit an error (wrap it with
 * `toUpstreamError`). Any HTTP status, 4xx and 5xx included, resolves.
 */
export interface Upstream {
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  /** Close idle connections; in-flight requests are aborted. */
  close(): Promise<void>;
}

export interface UpstreamRequest {
  /** The remote's name, for pools, errors and logs. */
  remote: string;
  url: string;
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  credentials?: Credentials;
  /**
   * The only origin (`scheme://host:port`) that may receive `credentials`,
   * normally the remote's `baseUrl` origin. Defaults to the origin of `url`.
   * A redirect anywhere else is followed without them.
   */
  credentialOrigin?: string;
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Must be consumed or destroyed. */
  body: Readable;
  /** The URL that answered, after redirects (may carry a signed query: never log it whole). */
  url: string;
  redirects: number;
}
