/** A parsed semantic version (build metadata dropped); `undefined` for anything else. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: (string | number)[];
}

const re = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseSemver(v: string): SemVer | undefined {
  const m = re.exec(v.trim());
  if (!m) return undefined;
  const pre = m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [];
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre };
}

/** SemVer 2.0 precedence: negative when a < b, 0 when equal, positive when a > b. */
export function compareSemver(a: SemVer, b: SemVer): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d !== 0) return d;
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Where a dist-tag that pointed at a hidden (quarantined) version goes: the
 * highest remaining version below it, stable ones only when the tag pointed
 * at a stable release (so `latest` never lands on a prerelease). `undefined`
 * when nothing fits: the tag is dropped.
 */
export function fallbackVersion(hidden: string, remaining: Iterable<string>): string | undefined {
  const target = parseSemver(hidden);
  let best: { v: string; s: SemVer } | undefined;
  for (const v of remaining) {
    const s = parseSemver(v);
    if (!s) continue;
    if (target && (compareSemver(s, target) >= 0 || (target.pre.length === 0 && s.pre.length > 0))) continue;
    if (!best || compareSemver(s, best.s) > 0) best = { v, s };
  }
  return best?.v;
}
