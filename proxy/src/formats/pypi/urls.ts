import type { RemoteConfig } from '../../config/index.ts';
import { encodeSegment, joinUrl } from '../url.ts';
import type { PypiPath } from './names.ts';

/**
 * The simple index root of a remote, ending in `/`: `options.pypiIndexUrl`
 * when set (PyPI itself, whose pages and files live on different hosts),
 * else `{baseUrl}/simple/` (self-hosted indexes serve both from one host).
 */
export function indexRoot(remote: RemoteConfig): string {
  const configured = remote.options?.pypiIndexUrl;
  if (typeof configured === 'string' && configured !== '')
    return configured.endsWith('/') ? configured : `${configured}/`;
  if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
  return `${joinUrl(remote.baseUrl, 'simple')}/`;
}

/** The upstream URL of a page (always with the trailing slash the simple API wants). */
export function pageUrl(remote: RemoteConfig, p: Exclude<PypiPath, { kind: 'file' }>): string {
  const root = indexRoot(remote);
  return p.kind === 'root' ? root : `${root}${encodeSegment(p.project)}/`;
}

/**
 * The cache path of a file URL named by an index: relative to `baseUrl` when
 * the URL is below it, else the URL's own path (the seed's model: `baseUrl`
 * is the files host, serving the same paths). `undefined` when a segment could
 * not be a guarded request path (dot segments, controls, backslashes).
 */
export function filePathOf(remote: RemoteConfig, fileUrl: string): string | undefined {
  const u = new URL(fileUrl);
  let rel = u.pathname.slice(1);
  if (remote.baseUrl) {
    const base = new URL(remote.baseUrl);
    const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    if (u.origin === base.origin && u.pathname.startsWith(prefix)) rel = u.pathname.slice(prefix.length);
  }
  return decodeSafePath(rel);
}

/**
 * Decode a URL path (relative, percent-encoded) into a cache path, or
 * `undefined` when a segment could never pass the path guard: empty, dot
 * segments, encoded `/`, `#`, backslashes or control characters.
 */
export function decodeSafePath(rel: string): string | undefined {
  const decoded: string[] = [];
  for (const s of rel.split('/')) {
    let v: string;
    try {
      v = decodeURIComponent(s);
    } catch {
      return undefined;
    }
    if (v === '' || v === '.' || v === '..' || v.includes('/') || v.includes('#') || hasControlOrBackslash(v))
      return undefined;
    decoded.push(v);
  }
  return decoded.join('/');
}

function hasControlOrBackslash(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}

/**
 * The URL of `target` (a cache path) relative to the page at `pagePath` (a
 * cache path without variant suffix), so pages work whatever host name or
 * path prefix the client reached the proxy by (pip and uv resolve relative
 * URLs against the page URL, PEP 503/691).
 */
export function relativeHref(pagePath: string, target: string): string {
  const depth = pagePath.split('/').length - 1;
  return '../'.repeat(depth) + target.split('/').map(encodeSegment).join('/');
}
