/**
 * Small parsers for the text files packages carry. All return multi-maps
 * keyed by lower-cased field name, values in file order.
 */
export type Fields = Map<string, string[]>;

/**
 * RFC 822-style headers: Debian `control`, wheel `METADATA`, `PKG-INFO`.
 * Continuation lines start with whitespace; parsing stops at the first blank
 * line (the wheel description body follows it).
 */
export function parseHeaders(text: string): Fields {
  const out: Fields = new Map();
  let last: { key: string; index: number } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (out.size > 0) break;
      continue;
    }
    if (/^[ \t]/.test(line) && last) {
      const values = out.get(last.key)!;
      values[last.index] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = out.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    out.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return out;
}

/**
 * A JAR manifest's main section. Lines are at most 72 bytes; a continuation
 * starts with exactly one space that is not part of the value.
 */
export function parseManifest(text: string): Fields {
  const out: Fields = new Map();
  let last: { key: string; index: number } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (line.startsWith(' ') && last) {
      out.get(last.key)![last.index] += line.slice(1);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = out.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    out.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return out;
}

/** `key = value` lines with `#` comments: apk `.PKGINFO`, Maven `pom.properties`. */
export function parseKeyValues(text: string): Fields {
  const out: Fields = new Map();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const values = out.get(key) ?? [];
    values.push(line.slice(eq + 1).trim());
    out.set(key, values);
  }
  return out;
}

/** First value of `key`, or undefined. */
export function first(fields: Fields, key: string): string | undefined {
  return fields.get(key.toLowerCase())?.[0];
}

/** Split a Debian relationship field (`Depends: a (>= 1), b | c`) into its comma-separated clauses. */
export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s !== '');
}

/** Drop undefined values so JSON output stays compact. */
export function compact(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
