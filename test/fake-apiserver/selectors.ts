/**
 * TEST FAKE. Label selectors (equality, inequality, existence: `a=b,c!=d,e,!f`)
 * and the field selectors every resource supports (`metadata.name`,
 * `metadata.namespace`). Set-based label selectors (`in`, `notin`) and other
 * fields are refused with 400, as the fake does not implement them.
 */
import { badRequest } from './status.ts';

export type Matcher = (obj: {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
}) => boolean;

export function parseLabelSelector(sel: string | null): Matcher {
  if (!sel) return () => true;
  const terms = sel
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const tests = terms.map((term): Matcher => {
    if (/\s(in|notin)\s/.test(term))
      throw badRequest(`fake API server: set-based selector not supported: ${term}`);
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
    if (m) {
      const [, key, op, value] = m;
      return (o) => (o.metadata.labels?.[key] === value) === (op !== '!=');
    }
    if (term.startsWith('!')) return (o) => o.metadata.labels?.[term.slice(1)] === undefined;
    return (o) => o.metadata.labels?.[term] !== undefined;
  });
  return (o) => tests.every((t) => t(o));
}

export function parseFieldSelector(sel: string | null): Matcher {
  if (!sel) return () => true;
  const tests = sel.split(',').map((term): Matcher => {
    const m = /^(metadata\.name|metadata\.namespace)(!=|==|=)(.*)$/.exec(term.trim());
    if (!m)
      throw badRequest(`"${term}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    const [, field, op, value] = m;
    const pick =
      field === 'metadata.name'
        ? (o: Parameters<Matcher>[0]) => o.metadata.name
        : (o: Parameters<Matcher>[0]) => o.metadata.namespace ?? '';
    return (o) => (pick(o) === value) === (op !== '!=');
  });
  return (o) => tests.every((t) => t(o));
}
