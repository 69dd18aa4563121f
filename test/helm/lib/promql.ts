/**
 * Just enough PromQL reading to check the chart's alerts and dashboard
 * against the metrics the code registers: which metrics an expression reads,
 * with which label matchers, and which labels it aggregates by. Not a
 * parser: the expressions are the chart's own, kept to these forms.
 */

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  metric: string;
  matchers: Matcher[];
}

export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  for (const m of expr.matchAll(/\b(orchard_[a-z0-9_]+)\b\s*(?:\{([^}]*)\})?/g)) {
    const matchers: Matcher[] = [];
    for (const mm of (m[2] ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      matchers.push({ label: mm[1], op: mm[2] as Matcher['op'], value: mm[3] });
    }
    out.push({ metric: m[1], matchers });
  }
  return out;
}

/** Labels named in `by (…)` and `without (…)` clauses. */
export function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** The label set of the expression's result: the labels of its outermost `by` clauses. */
export function resultLabels(expr: string): Set<string> {
  return new Set(groupingLabels(expr));
}

/** Literal label values a matcher names: `hit`, or each of `hit|stale`; none for real regexes or `$variables`. */
export function literalValues(m: Matcher): string[] {
  if (m.value.includes('$')) return [];
  const parts = m.op.endsWith('~') ? m.value.split('|') : [m.value];
  return parts.every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p))
    ? parts
    : parts.filter((p) => /^[A-Za-z_]\w*$/.test(p));
}

/** Parentheses, brackets, braces and double quotes balance. */
export function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let inString = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return !inString && stack.length === 0;
}
