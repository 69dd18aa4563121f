import type { RemoteConfig } from '../../config/index.ts';

/** A `WWW-Authenticate` challenge (RFC 9110 §11.6.1): scheme plus auth-params. */
export interface Challenge {
  /** Lower case: `bearer`, `basic`, … */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse the first challenge of a `WWW-Authenticate` header, e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`.
 * Quoted values may contain commas and escaped quotes. Returns `undefined`
 * for an empty or unparseable header.
 */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  const rest = m[2] ?? '';
  let p: RegExpExecArray | null;
  // biome-ignore lint/suspicious/noAssignInExpressions: a sticky regex walk
  while (re.lastIndex < rest.length && (p = re.exec(rest))) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The token scope a registry request needs: `repository:{name}:pull` for `/v2/{name}/…`. */
export function pullScope(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const m = /\/v2\/(.+)\/(?:manifests|blobs|tags)\/[^/]+$/.exec(path);
  if (!m) return undefined;
  try {
    return `repository:${decodeURIComponent(m[1]!)}:pull`;
  } catch {
    return undefined;
  }
}

const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Whether Orchard may ask `realm` for a token on behalf of `remote`. The realm
 * comes from the upstream's 401, so it is untrusted input: without this check
 * a hostile or compromised upstream could make the proxy call any internal
 * address (SSRF), with the remote's credentials. Allowed are:
 * 1. an http(s) URL without userinfo, and https whenever the registry is https;
 * 2. on the registry's own host (any port); or
 * 3. on a host listed in `options.tokenRealmHosts` (host or host:port); or,
 *    only when that option is absent, a sibling DNS name: the same name as
 *    the registry's once the first label is dropped, with at least two labels
 *    left (Docker Hub's `auth.docker.io` for `registry-1.docker.io`; never
 *    `evil.co.uk` for `registry.example.co.uk`).
 */
export function realmAllowed(remote: RemoteConfig, realm: string): boolean {
  let target: URL;
  let base: URL;
  try {
    target = new URL(realm);
    base = new URL(remote.baseUrl ?? '');
  } catch {
    return false;
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return false;
  if (target.username || target.password) return false;
  if (base.protocol === 'https:' && target.protocol !== 'https:') return false;
  const host = target.hostname.toLowerCase();
  if (host === base.hostname.toLowerCase()) return true;
  const listed = remote.options.tokenRealmHosts;
  if (listed)
    return listed.some((h) => h.toLowerCase() === host || h.toLowerCase() === target.host.toLowerCase());
  return siblings(host, base.hostname.toLowerCase());
}

function siblings(a: string, b: string): boolean {
  if (ipv4.test(a) || ipv4.test(b) || a.includes(':') || b.includes(':')) return false;
  const la = a.split('.');
  const lb = b.split('.');
  return la.length >= 3 && la.length === lb.length && la.slice(1).join('.') === lb.slice(1).join('.');
}
