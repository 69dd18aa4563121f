import { Agent, request } from 'undici';
import type { Credentials } from '../config/index.ts';
import type { Logger } from '../http/logger.ts';
import { safeUrl, toUpstreamError, UpstreamError } from './errors.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from './upstream.ts';

export interface UpstreamClientOptions {
  /** TCP + TLS connect. */
  connectTimeoutMs?: number;
  /** From request sent to response headers (first byte). */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. */
  bodyIdleTimeoutMs?: number;
  maxRedirects?: number;
  keepAliveTimeoutMs?: number;
  /** Parallel connections per upstream origin and remote. */
  connectionsPerOrigin?: number;
  userAgent?: string;
  logger?: Logger;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
export const defaultUpstreamTimeouts = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  bodyIdleTimeoutMs: 30_000,
};

/**
 * The undici-backed Upstream: one keep-alive Agent (a pool per origin) per
 * remote, so one slow upstream cannot starve another's connections.
 * Redirects are followed here, not by undici, so credentials can be dropped
 * whenever the target leaves the remote's own origin.
 */
export class UpstreamClient implements Upstream {
  private readonly agents = new Map<string, Agent>();
  private readonly opts: Required<Omit<UpstreamClientOptions, 'logger'>> & { logger?: Logger };

  constructor(opts: UpstreamClientOptions = {}) {
    this.opts = {
      ...defaultUpstreamTimeouts,
      maxRedirects: 5,
      keepAliveTimeoutMs: 30_000,
      connectionsPerOrigin: 64,
      userAgent: 'orchard/0.1',
      ...opts,
    };
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const agent = this.agentFor(req.remote);
    const credentialOrigin = req.credentialOrigin ?? new URL(req.url).origin;
    let url = req.url;
    for (let redirects = 0; ; redirects++) {
      const target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        throw new UpstreamError('protocol', `upstream of remote ${req.remote}: redirect to a non-HTTP URL`, {
          remote: req.remote,
        });
      }
      const withCredentials = target.origin === credentialOrigin;
      const headers = buildHeaders(req, withCredentials ? req.credentials : undefined, this.opts.userAgent);
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(target, {
          dispatcher: agent,
          method: req.method ?? 'GET',
          headers,
          signal: req.signal,
        });
      } catch (err) {
        throw toUpstreamError(err, req.remote);
      }
      const location = headerValue(res.headers.location);
      if (!redirectStatuses.has(res.statusCode) || !location) {
        return { status: res.statusCode, headers: flatten(res.headers), body: res.body, url, redirects };
      }
      res.body.resume();
      res.body.on('error', () => {});
      if (redirects >= this.opts.maxRedirects) {
        throw new UpstreamError(
          'protocol',
          `upstream of remote ${req.remote}: more than ${this.opts.maxRedirects} redirects`,
          {
            remote: req.remote,
          },
        );
      }
      url = new URL(location, target).toString();
      this.opts.logger?.debug('upstream redirect', {
        remote: req.remote,
        to: safeUrl(url),
        credentials_kept: new URL(url).origin === credentialOrigin,
      });
    }
  }

  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.allSettled(agents.map((a) => a.destroy()));
  }

  private agentFor(remote: string): Agent {
    let agent = this.agents.get(remote);
    if (!agent) {
      agent = new Agent({
        connect: { timeout: this.opts.connectTimeoutMs },
        headersTimeout: this.opts.headersTimeoutMs,
        bodyTimeout: this.opts.bodyIdleTimeoutMs,
        keepAliveTimeout: this.opts.keepAliveTimeoutMs,
        connections: this.opts.connectionsPerOrigin,
      });
      this.agents.set(remote, agent);
    }
    return agent;
  }
}

function buildHeaders(
  req: UpstreamRequest,
  creds: Credentials | undefined,
  userAgent: string,
): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': userAgent,
    // Cache exactly what the upstream stores; a decompressed copy would not match published digests.
    'accept-encoding': 'identity',
  };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  if (creds) {
    if (creds.token) headers.authorization = `Bearer ${creds.token}`;
    else if (creds.username !== undefined || creds.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64')}`;
    }
    for (const [k, v] of Object.entries(creds.headers ?? {})) headers[k.toLowerCase()] = v;
  } else {
    // Caller-supplied auth never leaves the credential origin either.
    delete headers.authorization;
  }
  return headers;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k === 'set-cookie') continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
