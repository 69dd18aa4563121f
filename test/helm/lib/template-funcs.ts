/**
 * The Go template builtins and the Sprig/Helm functions the chart uses, with
 * Go's value semantics (see template-eval.ts): float64 values are JS numbers,
 * int64 values are bigints. A function the chart does not use is absent, so
 * using a new one fails the tests until it is added here with its semantics.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

type Value = unknown;
export type Funcs = Record<string, (...args: Value[]) => Value>;

/** Go's `%v` for the values a chart prints. */
export function formatValue(v: Value): string {
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return formatFloat(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, Value>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${formatValue(o[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** Go's `%v` of a float64 (shortest %g, exponent from 1e+06 up): 25000 -> 25000, 1000000 -> 1e+06. */
function formatFloat(f: number): string {
  if (f === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(f)));
  if (exp < -4 || exp >= 6) {
    const [mant, e] = f.toExponential().split('e');
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(f);
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function isTruthy(v: Value): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function kind(v: Value): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  return typeof v;
}

/** Go's eq/lt on basic kinds: int and float64 do not compare ("incompatible types for comparison"). */
function compare(a: Value, b: Value): number {
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== kb) throw new Error(`incompatible types for comparison: ${ka} and ${kb}`);
  if (ka === 'nil') return 0;
  if (!['int', 'float', 'string', 'boolean'].includes(ka))
    throw new Error(`invalid type for comparison: ${ka}`);
  return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
}

function toInt(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return /^-?\d+$/.test(v) ? BigInt(v) : 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

function needInt(v: Value, fn: string): number {
  if (typeof v !== 'bigint') throw new Error(`${fn}: wrong type for value; expected int; got ${kind(v)}`);
  return Number(v);
}

function str(v: Value): string {
  return v === null || v === undefined ? '' : formatValue(v);
}

function indent(n: number, s: string): string {
  const pad = ' '.repeat(n);
  return pad + s.replaceAll('\n', `\n${pad}`);
}

/** Helm's toYaml: sorted keys, block style, sequences not indented, no trailing newline. */
function toYaml(v: Value): string {
  if (v === null || v === undefined) return 'null';
  const plain = JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)));
  return stringify(plain, { sortMapEntries: true, indentSeq: false, lineWidth: 0 }).replace(/\n$/, '');
}

/** Go's fmt.Sprintf for the verbs a chart uses: %s %d %v %q %%. */
function sprintf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%([sdvq%])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (verb === 'd') return typeof a === 'bigint' ? String(a) : `%!d(${kind(a)}=${formatValue(a)})`;
    if (verb === 'q') return JSON.stringify(str(a));
    return formatValue(a);
  });
}

export function makeFuncs(opts: { include: (name: string, data: Value) => string }): Funcs {
  return {
    include: (name, data) => opts.include(String(name), data),
    eq: (a, ...bs) => bs.some((b) => compare(a, b) === 0),
    ne: (a, b) => compare(a, b) !== 0,
    lt: (a, b) => compare(a, b) < 0,
    le: (a, b) => compare(a, b) <= 0,
    gt: (a, b) => compare(a, b) > 0,
    ge: (a, b) => compare(a, b) >= 0,
    not: (a) => !isTruthy(a),
    len: (a) => BigInt(typeof a === 'string' || Array.isArray(a) ? a.length : Object.keys(a ?? {}).length),
    print: (...a) => a.map(str).join(''),
    printf: (f, ...a) => sprintf(String(f), a),
    int: toInt,
    int64: toInt,
    toString: (a: Value) => str(a),
    quote: (...a) =>
      a
        .filter((x) => x !== null && x !== undefined)
        .map((x) => JSON.stringify(str(x)))
        .join(' '),
    default: (d, ...given) => (given.length > 0 && isTruthy(given[0]) ? given[0] : d),
    empty: (a) => !isTruthy(a),
    required: (msg, v) => {
      if (v === null || v === undefined || v === '') throw new Error(String(msg));
      return v;
    },
    fail: (msg) => {
      throw new Error(String(msg));
    },
    toYaml,
    toJson: (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)),
    indent: (n, s) => indent(needInt(n, 'indent'), str(s)),
    nindent: (n, s) => `\n${indent(needInt(n, 'nindent'), str(s))}`,
    trim: (s) => str(s).trim(),
    trimSuffix: (suffix, s) => (str(s).endsWith(str(suffix)) ? str(s).slice(0, -str(suffix).length) : str(s)),
    trunc: (n, s) => str(s).slice(0, needInt(n, 'trunc')),
    replace: (from, to, s) => str(s).replaceAll(str(from), str(to)),
    join: (sep, list) => ((list as Value[]) ?? []).map(str).join(str(sep)),
    sha256sum: (s) => createHash('sha256').update(str(s)).digest('hex'),
    contains: (sub, s) => str(s).includes(str(sub)),
    hasKey: (m, k) => Object.hasOwn((m as object) ?? {}, str(k)),
  };
}
