/**
 * Join a base URL and a normalized, decoded relative path into an absolute URL,
 * percent-encoding each path segment. `new URL(path, base)` is not used on
 * purpose: it would treat a first segment like `c:` as a scheme and resolve
 * `..`-like input, while here the path is already guarded and only needs encoding.
 * The base's own path is kept (a trailing slash is optional); its query is dropped.
 */
export function joinUrl(base: string, path: string): string {
  const url = new URL(base);
  const prefix = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  url.pathname = prefix + path.split('/').map(encodeSegment).join('/');
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** RFC 3986 `pchar` minus what must be escaped; keeps `@ : + , = ! $ & ' ( ) * ; ~` readable for upstream logs. */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /%(40|3A|2B|2C|3D|21|24|26|27|28|29|2A|3B)/gi,
    (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
