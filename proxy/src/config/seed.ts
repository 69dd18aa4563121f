/**
 * The seed's remotes.yaml format, converted to the same custom resources the
 * CRDs define, so its users can point ORCHARD_CONFIG at their files unchanged.
 *
 * A seed document is a map without apiVersion/kind that has `remotes:` and/or
 * `config_dir:`. Each `remotes.<name>` entry becomes a Remote, or a
 * VirtualRepository for `type: virtual`. Keys are snake_case and map to the
 * camelCase fields one to one (base_url -> baseUrl, cache.mutable_ttl ->
 * cache.mutableTtl, ...), except:
 *   username / password / token        -> credentials of that remote (never in spec)
 *   quarantine_new + quarantine_days   -> quarantine.days (only when quarantine_new is true)
 *   quarantine_exempt_patterns         -> quarantine.exemptPatterns
 *   base_url on a local remote         -> dropped with a warning
 * Issues are reported with the seed's own key names (e.g. /remotes/npm/cache/mutable_ttl).
 */
import { apiVersion } from './crds.ts';
import type { InputDocument } from './normalize.ts';
import type { SemanticIssue } from './semantic.ts';
import type { ConfigIssue, Credentials } from './types.ts';
import { pointerSegments } from './yaml-files.ts';

export function isSeedDocument(obj: unknown): obj is Record<string, unknown> {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return false;
  const o = obj as Record<string, unknown>;
  return o.apiVersion === undefined && o.kind === undefined && ('remotes' in o || 'config_dir' in o);
}

export interface SeedConversion {
  docs: InputDocument[];
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
  /** `config_dir` as written (the caller resolves it against the file's directory). */
  configDir?: string;
}

const credentialKeys = ['username', 'password', 'token'] as const;
const quarantineKeys: Record<string, string> = {
  quarantine_new: '',
  quarantine_days: 'days',
  quarantine_exempt_patterns: 'exemptPatterns',
};
const virtualKeys = new Set(['type', 'package', 'members', 'description']);

export function convertSeedDocument(
  file: string,
  index: number,
  obj: Record<string, unknown>,
  lineOf: (path: string) => number | undefined,
): SeedConversion {
  const out: SeedConversion = { docs: [], issues: [], warnings: [] };
  const at = (i: SemanticIssue): ConfigIssue => ({ file, document: index, line: lineOf(i.path), ...i });
  for (const key of Object.keys(obj)) {
    if (key !== 'remotes' && key !== 'config_dir') {
      const message = `${key} has no effect here; runtime settings come from ORCHARD_* environment variables`;
      out.warnings.push(at({ path: `/${key}`, rule: 'seed-ignored-key', message }));
    }
  }
  if (obj.config_dir !== undefined && obj.config_dir !== null) {
    if (typeof obj.config_dir === 'string' && obj.config_dir !== '') out.configDir = obj.config_dir;
    else
      out.issues.push(at({ path: '/config_dir', rule: 'seed-format', message: 'config_dir must be a path' }));
  }
  const remotes = obj.remotes ?? {};
  if (typeof remotes !== 'object' || Array.isArray(remotes)) {
    out.issues.push(
      at({ path: '/remotes', rule: 'seed-format', message: 'remotes must be a map of name to remote' }),
    );
    return out;
  }
  for (const [name, entry] of Object.entries(remotes as Record<string, unknown>)) {
    const base = `/remotes/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      out.issues.push(at({ path: base, rule: 'seed-format', message: 'a remote must be a map' }));
      continue;
    }
    const converted = convertEntry(name, entry as Record<string, unknown>);
    out.warnings.push(...converted.warnings.map((w) => at({ ...w, path: base + w.path })));
    out.issues.push(...converted.issues.map((w) => at({ ...w, path: base + w.path })));
    const locate = (crPath: string) => {
      const path = base + seedPath(crPath);
      return { path, line: lineOf(path) };
    };
    out.docs.push({
      file,
      index,
      object: converted.object,
      locate,
      inlineCredentials: converted.credentials,
    });
  }
  return out;
}

interface ConvertedEntry {
  object: unknown;
  credentials?: Credentials;
  warnings: SemanticIssue[];
  issues: SemanticIssue[];
}

function convertEntry(name: string, entry: Record<string, unknown>): ConvertedEntry {
  const warnings: SemanticIssue[] = [];
  const issues: SemanticIssue[] = [];
  const metadata = { name };
  if (entry.type === 'virtual') {
    const spec: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'type') continue;
      if (virtualKeys.has(key)) spec[key] = value;
      else
        warnings.push({
          path: `/${key}`,
          rule: 'seed-ignored-key',
          message: `${key} has no effect on a virtual`,
        });
    }
    return { object: { apiVersion, kind: 'VirtualRepository', metadata, spec }, warnings, issues };
  }
  const spec: Record<string, unknown> = {};
  const credentials: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry)) {
    if ((credentialKeys as readonly string[]).includes(key)) {
      if (typeof value === 'string') credentials[key] = value;
      else if (value !== null && value !== undefined) {
        issues.push({ path: `/${key}`, rule: 'seed-format', message: `${key} must be a string` });
      }
    } else if (!(key in quarantineKeys)) {
      spec[snakeToCamel(key)] = camelKeys(value);
    }
  }
  if (entry.quarantine_new === true) {
    if (typeof entry.quarantine_days !== 'number') {
      issues.push({
        path: '/quarantine_days',
        rule: 'seed-quarantine-days',
        message: 'quarantine_new: true needs quarantine_days: <number of days>',
      });
    } else {
      spec.quarantine = {
        days: entry.quarantine_days,
        ...(entry.quarantine_exempt_patterns !== undefined
          ? { exemptPatterns: entry.quarantine_exempt_patterns }
          : {}),
      };
    }
  } else if (entry.quarantine_days !== undefined || entry.quarantine_exempt_patterns !== undefined) {
    const message = 'quarantine settings have no effect without quarantine_new: true';
    warnings.push({ path: '/quarantine_days', rule: 'seed-ignored-key', message });
  }
  if (spec.type === 'local' && spec.baseUrl !== undefined) {
    delete spec.baseUrl;
    warnings.push({
      path: '/base_url',
      rule: 'seed-ignored-key',
      message: 'base_url has no effect on a local remote',
    });
  }
  const hasCredentials = Object.keys(credentials).length > 0;
  return {
    object: { apiVersion, kind: 'Remote', metadata, spec },
    ...(hasCredentials ? { credentials } : {}),
    warnings,
    issues,
  };
}

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function camelKeys(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeToCamel(k), camelKeys(v)]));
}

/** A JSON pointer into the converted resource, as the seed key path below `/remotes/<name>`. */
export function seedPath(crPath: string): string {
  const segs = pointerSegments(crPath);
  if (segs[0] === 'metadata') return '';
  if (segs[0] !== 'spec') return '';
  const rest = segs.slice(1);
  if (rest[0] === 'quarantine') {
    if (rest.length === 1) return '/quarantine_new';
    const key = Object.entries(quarantineKeys).find(([, v]) => v === rest[1])?.[0] ?? 'quarantine_new';
    return `/${[key, ...rest.slice(2)].join('/')}`;
  }
  if (rest[0] === 'auth') return '/username';
  return rest.map((s) => `/${/^\d+$/.test(s) ? s : camelToSnake(s)}`).join('');
}
