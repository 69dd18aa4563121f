/**
 * Sorting input documents into resources and Secrets: what kind each is,
 * whether it has a usable name, and what happens when two share a name.
 */
import { apiVersion, type Kind, kinds } from './crds.ts';
import { type ParsedSecret, parseSecret } from './secrets.ts';
import { checkName, type SemanticIssue } from './semantic.ts';
import type { ConfigIssue, Credentials } from './types.ts';

/** One parsed document and where it came from. */
export interface InputDocument {
  /** File name, or a label for API objects (e.g. `Remote/npm`). */
  file: string;
  index: number;
  object: unknown;
  /** Maps a JSON pointer in `object` to where it was written (YAML line, seed key names). */
  locate?: (path: string) => { path: string; line?: number };
  /** Credentials written inline (seed remotes.yaml); used when spec.auth is absent. */
  inlineCredentials?: Credentials;
}

/** A resource document with its (defaulted, once validated) spec and its issues so far. */
export interface Resource {
  kind: Kind;
  name: string;
  doc: InputDocument;
  spec: Record<string, unknown>;
  issues: ConfigIssue[];
}

export interface Collected {
  resources: Resource[];
  secrets: ParsedSecret[];
  documentIssues: ConfigIssue[];
  warnings: ConfigIssue[];
}

/**
 * Classify every document. Remote and VirtualRepository names share one
 * namespace. On a duplicate, 'later-wins' keeps the later document (with a
 * warning); 'error' keeps both and marks both invalid.
 */
export function collectDocuments(
  docs: readonly InputDocument[],
  duplicates: 'later-wins' | 'error',
): Collected {
  const out: Collected = { resources: [], secrets: [], documentIssues: [], warnings: [] };
  const byName = new Map<string, Resource>();
  for (const doc of docs) {
    const res = classify(doc, out);
    if (!res) continue;
    const key = `${res.kind === 'VirtualRepository' ? 'Remote' : res.kind}/${res.name}`;
    const prev = byName.get(key);
    if (prev && duplicates === 'later-wins') {
      const message = `${prev.kind} ${res.name} from ${prev.doc.file} (document ${prev.doc.index}) is overridden`;
      out.warnings.push(locate(doc, { path: '/metadata/name', rule: 'name-overridden', message }, res));
    } else if (prev) {
      const message = `${prev.kind} ${res.name} is also defined (Remote and VirtualRepository names share one namespace)`;
      const issue = { path: '/metadata/name', rule: 'repository-name-unique', message };
      res.issues.push(locate(doc, issue));
      prev.issues.push(locate(prev.doc, issue));
      byName.set(`${key}#${byName.size}`, res);
      continue;
    }
    byName.set(key, res);
  }
  out.resources = [...byName.values()];
  return out;
}

/** A resource, or undefined after recording why the document is not one (or is a Secret). */
function classify(doc: InputDocument, out: Collected): Resource | undefined {
  const at = (i: SemanticIssue, extra: Partial<ConfigIssue> = {}) => locate(doc, i, extra);
  const obj = doc.object;
  if (obj === null || obj === undefined) return undefined;
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    out.documentIssues.push(at({ path: '', rule: 'document-kind', message: 'a document must be a map' }));
    return undefined;
  }
  const o = obj as Record<string, unknown>;
  if (o.apiVersion === 'v1' && o.kind === 'Secret') {
    const { secret, issues } = parseSecret(o);
    out.documentIssues.push(...issues.map((i) => at(i, { kind: 'Secret' })));
    if (secret) out.secrets.push(secret);
    return undefined;
  }
  const kind = kinds.find((k) => k === o.kind);
  if (o.apiVersion !== apiVersion || !kind) {
    const ours = typeof o.apiVersion === 'string' && o.apiVersion.startsWith('orchard.dev/');
    if (o.apiVersion && o.kind && !ours) {
      const message = `${o.apiVersion} ${o.kind} ignored`;
      out.warnings.push(at({ path: '/kind', rule: 'document-ignored', message }));
      return undefined;
    }
    const message = ours
      ? `unknown kind or version ${String(o.apiVersion)} ${String(o.kind)}; expected ${apiVersion} ${kinds.join('|')}`
      : `not an ${apiVersion} resource, a v1 Secret, nor a seed remotes.yaml (no apiVersion/kind, no remotes:)`;
    out.documentIssues.push(at({ path: '', rule: 'document-kind', message }));
    return undefined;
  }
  const name = (o.metadata as { name?: unknown } | undefined)?.name;
  const nameIssues = checkName(name);
  if (nameIssues.length) {
    out.documentIssues.push(...nameIssues.map((i) => at(i, { kind })));
    return undefined;
  }
  return { kind, name: name as string, doc, spec: {}, issues: [] };
}

/** Place an issue found in `doc` at its file, document, line and path as written. */
export function locate(
  doc: InputDocument,
  i: SemanticIssue,
  res?: Partial<Pick<ConfigIssue, 'kind' | 'name'>>,
): ConfigIssue {
  const where = doc.locate?.(i.path) ?? { path: i.path };
  return {
    file: doc.file,
    document: doc.index,
    ...(where.line ? { line: where.line } : {}),
    path: where.path,
    rule: i.rule,
    message: i.message,
    ...(res?.kind ? { kind: res.kind } : {}),
    ...(res?.name ? { name: res.name } : {}),
  };
}
