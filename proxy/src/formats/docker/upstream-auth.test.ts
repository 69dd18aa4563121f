import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.ts';
import type { Credentials } from '../../config/index.ts';
import { silentLogger } from '../../http/logger.ts';
import { configOf } from '../../registry/test-config.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../../upstream/upstream.ts';
import { RegistryUpstream } from './upstream-auth.ts';

type Route = (req: UpstreamRequest) => { status: number; headers?: Record<string, string>; body?: string };

/** An in-memory upstream that records every request and answers from `route`. */
class RecordingUpstream implements Upstream {
  readonly seen: UpstreamRequest[] = [];
  route: Route;
  constructor(route: Route) {
    this.route = route;
  }
  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    this.seen.push(req);
    const r = this.route(req);
    return {
      status: r.status,
      headers: r.headers ?? {},
      body: Readable.from([Buffer.from(r.body ?? '')]),
      url: req.url,
      redirects: 0,
    };
  }
  async close(): Promise<void> {}
}

const cfg = configOf({
  reg: { type: 'remote', package: 'docker', baseUrl: 'https://registry.example.com' },
  gen: { type: 'remote', package: 'generic', baseUrl: 'https://files.example.com' },
});
const challenge =
  'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull"';
const manifestUrl = 'https://registry.example.com/v2/team/app/manifests/v1';

/** A registry behind token auth: 401 without the right bearer token; the token server grants `tok-N`. */
function tokenRegistry(opts: { expiresIn?: number } = {}): RecordingUpstream {
  let issued = 0;
  const up = new RecordingUpstream((req): ReturnType<Route> => {
    if (req.url.startsWith('https://auth.example.com/')) {
      issued++;
      return {
        status: 200,
        body: JSON.stringify({ token: `tok-${issued}`, expires_in: opts.expiresIn ?? 300 }),
      };
    }
    if (req.credentials?.token === `tok-${issued}`)
      return { status: 200, headers: { 'docker-content-digest': 'sha256:d' }, body: 'ok' };
    return { status: 401, headers: { 'www-authenticate': challenge } };
  });
  return up;
}

function make(up: Upstream, creds?: Credentials, clock = new ManualClock()) {
  const results: string[] = [];
  const ru = new RegistryUpstream({
    base: up,
    remote: (n) => cfg.remotes.get(n),
    credentials: () => creds,
    clock,
    logger: silentLogger,
    onToken: (_r, result) => results.push(result),
  });
  return { ru, results, clock };
}

describe('RegistryUpstream: the bearer-token flow', () => {
  it('answers a 401 challenge with a token from the realm and retries once', async () => {
    const up = tokenRegistry();
    const { ru } = make(up, { username: 'u', password: 'p' });
    const res = await ru.request({ remote: 'reg', url: manifestUrl });
    expect(res.status).toBe(200);
    expect(up.seen.map((r) => new URL(r.url).host)).toEqual([
      'registry.example.com',
      'auth.example.com',
      'registry.example.com',
    ]);
    const tokenReq = up.seen[1]!;
    expect(new URL(tokenReq.url).searchParams.get('service')).toBe('registry.example.com');
    expect(new URL(tokenReq.url).searchParams.getAll('scope')).toEqual(['repository:team/app:pull']);
    // Basic credentials go to the realm only, and only to its own origin.
    expect(tokenReq.credentials).toEqual({ username: 'u', password: 'p' });
    expect(tokenReq.credentialOrigin).toBe('https://auth.example.com');
    expect(up.seen[2]!.credentials?.token).toBe('tok-1');
  });

  it('caches the token per scope until shortly before it expires', async () => {
    const up = tokenRegistry({ expiresIn: 60 });
    const { ru, clock } = make(up);
    await ru.request({ remote: 'reg', url: manifestUrl });
    await ru.request({ remote: 'reg', url: 'https://registry.example.com/v2/team/app/blobs/sha256:x' });
    expect(up.seen.filter((r) => r.url.includes('auth.example.com'))).toHaveLength(1);
    clock.advance(55_000);
    const res = await ru.request({ remote: 'reg', url: manifestUrl });
    expect(res.status).toBe(200);
    expect(up.seen.filter((r) => r.url.includes('auth.example.com'))).toHaveLength(2);
  });

  it('shares one token fetch between concurrent requests of a scope', async () => {
    const up = tokenRegistry();
    const { ru } = make(up);
    const all = await Promise.all(
      Array.from({ length: 8 }, () => ru.request({ remote: 'reg', url: manifestUrl })),
    );
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect(up.seen.filter((r) => r.url.includes('auth.example.com'))).toHaveLength(1);
  });

  it('never asks a realm that is not allowed, and passes the 401 on', async () => {
    const up = new RecordingUpstream(() => ({
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="http://169.254.169.254/latest",service="x"' },
    }));
    const { ru, results } = make(up, { username: 'u', password: 'p' });
    const res = await ru.request({ remote: 'reg', url: manifestUrl });
    expect(res.status).toBe(401);
    expect(up.seen).toHaveLength(1);
    expect(results).toEqual(['denied']);
  });

  it('passes the 401 on when the token server refuses', async () => {
    const up = new RecordingUpstream((req) =>
      req.url.includes('auth.example.com')
        ? { status: 401 }
        : { status: 401, headers: { 'www-authenticate': challenge } },
    );
    const { ru, results } = make(up);
    expect((await ru.request({ remote: 'reg', url: manifestUrl })).status).toBe(401);
    expect(results).toEqual(['error']);
  });

  it('leaves other remotes and basic challenges alone', async () => {
    const up = new RecordingUpstream(() => ({
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="x"' },
    }));
    const { ru } = make(up);
    expect((await ru.request({ remote: 'gen', url: 'https://files.example.com/a' })).status).toBe(401);
    expect((await ru.request({ remote: 'reg', url: manifestUrl })).status).toBe(401);
    expect(up.seen).toHaveLength(2);
  });
});

describe('RegistryUpstream: tag revalidation with HEAD', () => {
  const digest = `sha256:${'1'.repeat(64)}`;

  it('turns a conditional GET whose digest is unchanged into a 304 after a HEAD only', async () => {
    const up = new RecordingUpstream(() => ({
      status: 200,
      headers: { 'docker-content-digest': digest, etag: `"${digest}"` },
    }));
    const { ru } = make(up);
    const res = await ru.request({
      remote: 'reg',
      url: manifestUrl,
      headers: { 'if-none-match': `"${digest}"` },
    });
    expect(res.status).toBe(304);
    expect(up.seen.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('takes a 304 to the conditional HEAD (distribution answers so) as unchanged', async () => {
    const up = new RecordingUpstream((req) =>
      req.headers?.['if-none-match'] ? { status: 304 } : { status: 200 },
    );
    const { ru } = make(up);
    const res = await ru.request({
      remote: 'reg',
      url: manifestUrl,
      headers: { 'if-none-match': `"${digest}"` },
    });
    expect(res.status).toBe(304);
    expect(up.seen.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('fetches with GET when the tag moved', async () => {
    const up = new RecordingUpstream(() => ({
      status: 200,
      headers: { 'docker-content-digest': `sha256:${'2'.repeat(64)}` },
    }));
    const { ru } = make(up);
    const res = await ru.request({
      remote: 'reg',
      url: manifestUrl,
      headers: { 'if-none-match': `"${digest}"` },
    });
    expect(res.status).toBe(200);
    expect(up.seen.map((r) => r.method)).toEqual(['HEAD', undefined]);
  });
});
