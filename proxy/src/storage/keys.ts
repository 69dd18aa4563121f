/**
 * Key rules, applied once by `base.ts` before any backend sees a key. They are
 * the intersection of what every backend can store faithfully: S3 allows any
 * UTF-8 up to 1024 bytes, but a filesystem resolves `.`/`..` and empty
 * segments, so those would alias other keys or escape the store's root, and it
 * limits each name to 255 bytes.
 */
export const MAX_KEY_BYTES = 1024;
/** NAME_MAX of common filesystems; S3 has no such limit, but every backend applies it. */
export const MAX_SEGMENT_BYTES = 255;

// C0 controls, DEL and backslash (a path separator on Windows, an escape elsewhere).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\\]/;

/** Why `key` is not a valid key, or `undefined` when it is. */
export function checkKey(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key === '') return 'empty';
  const problem = checkChars(key);
  if (problem) return problem;
  if (key.startsWith('/')) return 'absolute path';
  for (const segment of key.split('/')) {
    const bad = checkSegment(segment);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * Why `prefix` is not a valid list prefix, or `undefined`. A prefix is a plain
 * string prefix: `''` lists everything, and the last segment may be partial
 * (`blobs/sha256/a`) or empty (`blobs/`). Complete segments follow the key rules.
 */
export function checkPrefix(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string') return 'not a string';
  if (prefix === '') return undefined;
  const problem = checkChars(prefix);
  if (problem) return problem;
  if (prefix.startsWith('/')) return 'absolute path';
  const segments = prefix.split('/');
  segments.pop();
  for (const segment of segments) {
    const bad = checkSegment(segment);
    if (bad) return bad;
  }
  return undefined;
}

function checkChars(s: string): string | undefined {
  if (Buffer.byteLength(s, 'utf8') > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  if (!s.isWellFormed()) return 'not valid Unicode';
  if (FORBIDDEN_CHARS.test(s)) return 'control character or backslash';
  return undefined;
}

function checkSegment(segment: string): string | undefined {
  if (segment === '') return 'empty segment';
  if (segment === '.' || segment === '..') return `"${segment}" segment`;
  if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES)
    return `segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}
