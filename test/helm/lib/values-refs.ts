/**
 * Static view of how the chart's templates use values.yaml: every `.Values.a.b`
 * path, with `$x := .Values.a` aliases resolved (`$x.b` is `a.b`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartDir } from './chart.ts';

/** The values paths (dotted) each template file refers to. */
export function valuesReferences(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const dir = join(chartDir, 'templates');
  for (const file of readdirSync(dir).sort()) {
    const src = readFileSync(join(dir, file), 'utf8');
    const refs = new Set<string>();
    const aliases = new Map<string, string>();
    for (const m of src.matchAll(/(\$[A-Za-z_]\w*)\s*:=\s*\.Values((?:\.\w+)+)/g))
      aliases.set(m[1], m[2].slice(1));
    // An alias definition alone reads nothing: its uses through the alias count.
    const body = src.replace(/(\$[A-Za-z_]\w*)\s*:=\s*\.Values(?:\.\w+)+/g, '');
    for (const m of body.matchAll(/\$?\.Values((?:\.\w+)+)/g)) refs.add(m[1].slice(1));
    for (const m of src.matchAll(/(\$[A-Za-z_]\w*)((?:\.\w+)+)/g)) {
      const base = aliases.get(m[1]);
      if (base) refs.add(`${base}${m[2]}`);
    }
    out.set(`templates/${file}`, refs);
  }
  return out;
}

/** The value at a dotted path, or `missing` when some key on the way is absent. */
export function lookup(values: unknown, path: string): unknown {
  let v: unknown = values;
  for (const key of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, key)) return missing;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}
export const missing = Symbol('missing');

/**
 * The paths a user sets: scalars, lists and empty maps, and maps the templates
 * take whole (`resources`, `labels`), without descending into them.
 */
export function settablePaths(values: unknown, usedWhole: Set<string>, prefix = ''): string[] {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return [prefix];
  const entries = Object.entries(values);
  if (entries.length === 0 || usedWhole.has(prefix)) return [prefix];
  return entries.flatMap(([k, v]) => settablePaths(v, usedWhole, prefix ? `${prefix}.${k}` : k));
}
