import { parse, stringify } from 'yaml';
import { ApiError } from '../../http/errors.ts';

/** One chart version of a repository index (`entries.{name}[]`); other fields are kept as they are. */
export interface ChartEntry {
  name?: string;
  version?: string;
  urls?: unknown;
  digest?: unknown;
  created?: unknown;
  [field: string]: unknown;
}

export interface RepoIndex {
  apiVersion?: unknown;
  entries: Record<string, ChartEntry[]>;
  generated?: unknown;
  [field: string]: unknown;
}

function malformed(what: string): ApiError {
  return new ApiError('UPSTREAM_ERROR', `the upstream helm index is malformed: ${what}`);
}

/**
 * Parse an `index.yaml` (YAML or JSON). Throws UPSTREAM_ERROR when it is not
 * a mapping with an `entries` mapping of lists. Alias expansion is bounded by
 * the parser (a billion-laughs index fails instead of exhausting memory).
 */
export function parseRepoIndex(body: Buffer): RepoIndex {
  let doc: unknown;
  try {
    doc = parse(body.toString('utf8'), { maxAliasCount: 1000, uniqueKeys: false });
  } catch (err) {
    throw malformed((err as Error).message.split('\n')[0] ?? 'invalid YAML');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('not a mapping');
  const index = doc as RepoIndex;
  if (index.entries === undefined || index.entries === null) index.entries = {};
  if (typeof index.entries !== 'object' || Array.isArray(index.entries))
    throw malformed('`entries` is not a mapping');
  for (const [name, list] of Object.entries(index.entries)) {
    if (!Array.isArray(list)) throw malformed(`entries.${name} is not a list`);
    for (const e of list)
      if (typeof e !== 'object' || e === null) throw malformed(`entries.${name} has a non-mapping entry`);
  }
  return index;
}

/** Serialize an index as YAML (helm reads YAML; `lineWidth: 0` keeps long URLs on one line). */
export function renderRepoIndex(index: RepoIndex): Buffer {
  return Buffer.from(stringify(index, { lineWidth: 0, aliasDuplicateObjects: false }));
}

export const indexContentType = 'application/x-yaml';

export function parseTime(v: unknown): Date | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v;
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}
