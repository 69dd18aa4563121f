import { Readable } from 'node:stream';
import type { Clock } from '../../clock.ts';
import type { Credentials, RemoteConfig } from '../../config/index.ts';
import type { Logger } from '../../http/logger.ts';
import { readAtMost } from '../../upstream/body.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../../upstream/upstream.ts';
import { type Challenge, parseChallenge, pullScope, realmAllowed } from './challenge.ts';
import { upstreamManifestAccept } from './media-types.ts';
import { mergeTagPages } from './tag-pages.ts';
import { TokenCache } from './token-cache.ts';

export interface RegistryUpstreamOptions {
  base: Upstream;
  /** The remote named by a request (live config), or `undefined`. */
  remote(name: string): RemoteConfig | undefined;
  credentials(name: string): Credentials | undefined;
  clock: Clock;
  logger: Logger;
  /** Counts token fetches by outcome. */
  onToken?(remote: string, result: 'ok' | 'error' | 'denied'): void;
}

const maxTokenResponseBytes = 64 * 1024;

/**
 * The registry side of the docker upstream protocol, wrapped around the
 * engine's upstream client. For requests of docker remotes it:
 * 1. sends a cached bearer token for the request's scope, when it has one;
 * 2. on `401` with `WWW-Authenticate: Bearer realm,service,scope`, asks the
 *    realm for a token (with the remote's username/password as basic auth)
 *    and retries once; tokens are cached per remote and scope until they
 *    expire. The realm must pass `realmAllowed` (never an arbitrary host);
 * 3. revalidates tag manifests with `HEAD` instead of `GET` when the engine
 *    sends `If-None-Match`: the same digest becomes a 304 without a GET,
 *    which Docker Hub does not count against pull limits;
 * 4. follows a paginated `tags/list` (`Link: <…>; rel="next"`) and answers
 *    with the merged list (`mergeTagPages`), so the engine caches it whole.
 * Credentials only ever go to the remote's origin (and tokens only there):
 * the client drops them on redirects elsewhere (blob CDNs). Requests of other
 * remotes pass through untouched. Safe for concurrent use.
 */
export class RegistryUpstream implements Upstream {
  private readonly opts: RegistryUpstreamOptions;
  private readonly tokens: TokenCache;

  constructor(opts: RegistryUpstreamOptions) {
    this.opts = opts;
    this.tokens = new TokenCache(opts.clock);
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const remote = this.opts.remote(req.remote);
    if (remote?.package !== 'docker' || remote.type !== 'remote') return this.opts.base.request(req);
    if (isManifestUrl(req.url) && !req.headers?.accept)
      req = { ...req, headers: { ...req.headers, accept: upstreamManifestAccept } };
    const inm = req.headers?.['if-none-match'];
    if ((req.method ?? 'GET') === 'GET' && inm && isManifestUrl(req.url)) {
      const head = await this.authorized(remote, { ...req, method: 'HEAD' });
      const digest = head.headers['docker-content-digest'];
      // distribution itself answers the conditional HEAD with 304; others ignore If-None-Match on HEAD.
      const unchanged =
        head.status === 304 ||
        (head.status === 200 &&
          inm.split(',').some((t) => {
            const v = t.trim().replace(/^W\//, '');
            return v === head.headers.etag || (digest !== undefined && v.replace(/"/g, '') === digest);
          }));
      if (unchanged || head.status === 404)
        return { ...head, status: unchanged ? 304 : 404, body: empty(head.body) };
      head.body.resume();
    }
    const res = await this.authorized(remote, req);
    if ((req.method ?? 'GET') !== 'GET' || !isTagsListUrl(req.url)) return res;
    return mergeTagPages(res, {
      remote: remote.name,
      origin: new URL(remote.baseUrl ?? req.url).origin,
      fetchPage: (url) => this.authorized(remote, { ...req, url }),
    });
  }

  async close(): Promise<void> {
    await this.opts.base.close();
  }

  /** One request with the token flow: cached token, else credentials, then at most one token fetch and retry. */
  private async authorized(remote: RemoteConfig, req: UpstreamRequest): Promise<UpstreamResponse> {
    const creds = this.opts.credentials(remote.name);
    const scope = pullScope(req.url) ?? '';
    const cached = this.tokens.get(remote.name, scope);
    const first = await this.opts.base.request(
      cached ? { ...req, credentials: withToken(creds, cached) } : req,
    );
    if (first.status !== 401) return first;
    const challenge = parseChallenge(first.headers['www-authenticate']);
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) return first;
    first.body.resume();
    if (cached) this.tokens.delete(remote.name, scope);
    const token = await this.fetchToken(remote, creds, challenge, scope, req.signal);
    if (!token) return { ...first, body: Readable.from([]) };
    return this.opts.base.request({ ...req, credentials: withToken(creds, token) });
  }

  /** A token for the challenge (coalesced per scope), or `undefined` when the realm is not allowed or refuses. */
  private fetchToken(
    remote: RemoteConfig,
    creds: Credentials | undefined,
    challenge: Challenge,
    scope: string,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const { realm, service } = challenge.params;
    if (!realm || !realmAllowed(remote, realm)) {
      this.opts.logger.warn('upstream token realm not allowed; add its host to options.tokenRealmHosts', {
        remote: remote.name,
        realm_host: hostOf(realm),
      });
      this.opts.onToken?.(remote.name, 'denied');
      return Promise.resolve(undefined);
    }
    return this.tokens.fetchOnce(remote.name, scope, async () => {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      const wanted = challenge.params.scope || scope;
      for (const s of wanted.split(' ').filter(Boolean)) url.searchParams.append('scope', s);
      const basic = creds?.username !== undefined || creds?.password !== undefined;
      const res = await this.opts.base.request({
        remote: remote.name,
        url: url.toString(),
        headers: { accept: 'application/json' },
        credentials: basic ? { username: creds?.username, password: creds?.password } : undefined,
        credentialOrigin: url.origin,
        signal,
      });
      // An oversized answer reads as empty: not a token.
      const body = (await readAtMost(res.body, maxTokenResponseBytes)) ?? Buffer.alloc(0);
      if (res.status !== 200) {
        this.opts.onToken?.(remote.name, 'error');
        this.opts.logger.warn('upstream token request refused', { remote: remote.name, status: res.status });
        return undefined;
      }
      const parsed = parseTokenResponse(body);
      this.opts.onToken?.(remote.name, parsed ? 'ok' : 'error');
      return parsed;
    });
  }
}

/** `{token|access_token, expires_in, issued_at}` (distribution `token.md`); `expires_in` defaults to 60 s. */
export function parseTokenResponse(
  body: Buffer,
): { token: string; expiresInS: number; issuedAt?: number } | undefined {
  try {
    const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const token = typeof doc.token === 'string' && doc.token ? doc.token : doc.access_token;
    if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) return undefined;
    const expires = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : Number.NaN;
    return { token, expiresInS: expires, ...(Number.isNaN(issued) ? {} : { issuedAt: issued }) };
  } catch {
    return undefined;
  }
}

function isManifestUrl(url: string): boolean {
  return /\/v2\/.+\/manifests\/[^/]+$/.test(new URL(url).pathname);
}

function isTagsListUrl(url: string): boolean {
  return /\/v2\/.+\/tags\/list$/.test(new URL(url).pathname);
}

function withToken(creds: Credentials | undefined, token: string): Credentials {
  return { headers: creds?.headers, token };
}

function empty(body: Readable): Readable {
  body.resume();
  return Readable.from([]);
}

function hostOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).host : undefined;
  } catch {
    return undefined;
  }
}
