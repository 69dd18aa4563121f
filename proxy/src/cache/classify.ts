import type { RemoteConfig } from '../config/index.ts';
import type { Format } from '../formats/index.ts';

/**
 * How the engine treats a path:
 * - `immutable`: cached for `immutableTtl` (0 = forever), quarantine applies.
 * - `mutable`: cached for `mutableTtl`. `builtin` mutable content is re-fetched
 *   on expiry; user-defined mutable content is revalidated with a conditional
 *   request when the remote has `checkMutableUpdates`.
 * - `forbidden`: 403, the path matches none of the remote's patterns.
 */
export type Classification =
  | { kind: 'immutable'; builtin: boolean }
  | { kind: 'mutable'; builtin: boolean }
  | { kind: 'forbidden' };

/**
 * Classify a normalized path, in this order:
 * 1. the format's content-addressed rule (a digest cannot change) → immutable;
 * 2. the format's built-in mutable rules, then the remote's `mutablePatterns`
 *    → mutable ("mutable files are always served regardless of
 *    immutable_patterns", artifactapi seed, Caching Model);
 * 3. the remote's `immutablePatterns` → immutable;
 * 4. otherwise 403 when `immutablePatterns` is set, and allowed (immutable)
 *    when it is not: "omitting immutable_patterns entirely allows all paths".
 *
 * Patterns are unanchored regular expressions tested against the path without
 * a leading slash, as the seed's examples (`.*\.tar\.gz$`, `\.tgz$`) expect.
 */
export function classifyPath(remote: RemoteConfig, format: Format, path: string): Classification {
  const builtin = format.classify(path);
  if (builtin === 'immutable-builtin') return { kind: 'immutable', builtin: true };
  if (builtin === 'mutable-builtin') return { kind: 'mutable', builtin: true };
  if (matchesAny(remote.mutablePatterns, path)) return { kind: 'mutable', builtin: false };
  if (matchesAny(remote.immutablePatterns, path)) return { kind: 'immutable', builtin: false };
  if (remote.immutablePatterns.length > 0) return { kind: 'forbidden' };
  return { kind: 'immutable', builtin: false };
}

/** Whether the remote's quarantine exempts the path (`exemptPatterns`). */
export function isQuarantineExempt(remote: RemoteConfig, path: string): boolean {
  return matchesAny(remote.quarantine?.exemptPatterns ?? [], path);
}

function matchesAny(patterns: readonly RegExp[], path: string): boolean {
  for (const re of patterns) {
    // A global or sticky RegExp keeps state between test() calls; never let that leak across
    // requests. (The config compiles patterns without flags and freezes them.)
    if (re.global || re.sticky) re.lastIndex = 0;
    if (re.test(path)) return true;
  }
  return false;
}
