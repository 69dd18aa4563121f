import { ApiError } from '../http/errors.ts';

/** Longest raw (encoded) request path accepted below a remote. */
export const maxPathLength = 2048;

// Percent-encodings that decode to a separator, a backslash, NUL or a `%`
// (double encoding: `%252e%252e` would become `%2e%2e` after a second decode
// somewhere downstream). A client never needs them in an artifact path.
const forbiddenEncodings = /%(2f|5c|00|25)/i;
// After decoding: NUL and other C0 controls, DEL, and the backslash that
// Windows-style servers treat as a separator.
function hasForbiddenChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}

/**
 * Normalize the raw (still percent-encoded) path below a remote and refuse
 * anything that could escape it, before any storage or upstream is touched.
 *
 * Rejected with 400 `INVALID_PATH`: empty and overlong paths, absolute paths
 * (a leading `/`), empty segments (`a//b`), `.` and `..` segments in any
 * encoding (`%2e%2e`, `.%2E`), encoded slashes and backslashes, NUL and
 * control characters, double encoding (`%25…`) and malformed escapes.
 *
 * Returns the decoded path. A trailing slash is kept because it is meaningful
 * to some protocols (PyPI's `simple/pkg/`).
 */
export function normalizePath(raw: string): string {
  if (raw.length === 0) throw invalid('the path is empty');
  if (raw.length > maxPathLength) throw invalid(`the path is longer than ${maxPathLength} characters`);
  if (raw.startsWith('/')) throw invalid('absolute paths are not allowed');
  if (forbiddenEncodings.test(raw))
    throw invalid('encoded separators, NUL or double encoding are not allowed');
  const segments = raw.split('/');
  const trailingSlash = segments.length > 1 && segments[segments.length - 1] === '';
  if (trailingSlash) segments.pop();
  const decoded = segments.map((segment) => {
    if (segment === '') throw invalid('empty path segments are not allowed');
    let value: string;
    try {
      value = decodeURIComponent(segment);
    } catch {
      throw invalid('malformed percent-encoding');
    }
    if (value === '.' || value === '..') throw invalid('dot segments are not allowed');
    if (hasForbiddenChar(value)) throw invalid('backslashes and control characters are not allowed');
    return value;
  });
  return decoded.join('/') + (trailingSlash ? '/' : '');
}

function invalid(reason: string): ApiError {
  return new ApiError('INVALID_PATH', `invalid path: ${reason}`);
}

/**
 * The raw, still-encoded part of a request URL after `prefix` (for example
 * `/api/v1/remote/npm/`), without the query string. Routers decode their
 * parameters, which would hide `%2f` and `%2e%2e` from the guard, so the
 * guard always works on this raw form. Returns `undefined` when the URL does
 * not start with the prefix.
 */
export function rawPathAfter(url: string, prefix: string): string | undefined {
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  return pathname.startsWith(prefix) ? pathname.slice(prefix.length) : undefined;
}
