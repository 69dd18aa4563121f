/**
 * Remote credentials from `v1/Secret` documents. Keys: `username` and
 * `password` (basic auth), `token` (bearer), and `header.<Name>` (an extra
 * request header). `stringData` wins over base64 `data`, as in Kubernetes.
 * Other keys are ignored.
 */
import type { SemanticIssue } from './semantic.ts';
import type { Credentials } from './types.ts';

export interface ParsedSecret {
  name: string;
  namespace?: string;
  credentials: Credentials;
}

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parse a Secret object. Issues never contain secret values. */
export function parseSecret(obj: Record<string, unknown>): {
  secret?: ParsedSecret;
  issues: SemanticIssue[];
} {
  const meta = (obj.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  if (typeof meta.name !== 'string' || meta.name === '') {
    return {
      issues: [{ path: '/metadata/name', rule: 'name-required', message: 'metadata.name is required' }],
    };
  }
  const issues: SemanticIssue[] = [];
  const values = new Map<string, string>();
  for (const field of ['data', 'stringData'] as const) {
    const map = obj[field];
    if (map === undefined || map === null) continue;
    if (typeof map !== 'object' || Array.isArray(map)) {
      issues.push({ path: `/${field}`, rule: 'secret-format', message: `${field} must be a map of strings` });
      continue;
    }
    for (const [key, raw] of Object.entries(map)) {
      if (typeof raw !== 'string') {
        issues.push({ path: `/${field}/${key}`, rule: 'secret-format', message: 'must be a string' });
      } else if (field === 'data') {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw.replace(/\s/g, ''))) {
          issues.push({ path: `/data/${key}`, rule: 'secret-format', message: 'is not base64' });
        } else {
          values.set(key, Buffer.from(raw, 'base64').toString('utf8'));
        }
      } else {
        values.set(key, raw);
      }
    }
  }
  const headers: Record<string, string> = {};
  for (const [key, value] of values) {
    if (!key.startsWith('header.')) continue;
    const name = key.slice('header.'.length);
    if (!headerName.test(name)) {
      issues.push({
        path: `/data/${key}`,
        rule: 'secret-format',
        message: 'is not a valid HTTP header name',
      });
    } else {
      headers[name] = value;
    }
  }
  const credentials: Credentials = {
    ...(values.has('username') ? { username: values.get('username') } : {}),
    ...(values.has('password') ? { password: values.get('password') } : {}),
    ...(values.has('token') ? { token: values.get('token') } : {}),
    ...(Object.keys(headers).length ? { headers } : {}),
  };
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : undefined;
  return { secret: { name: meta.name, namespace, credentials }, issues };
}

/**
 * Find the Secret a reference names. A side without a namespace matches any
 * namespace (standalone files often omit it); a reference that then matches
 * Secrets in several namespaces is ambiguous and resolves to nothing.
 */
export function resolveSecret(
  secrets: readonly ParsedSecret[],
  ref: { name: string; namespace?: string },
): ParsedSecret | undefined {
  const found = secrets.filter(
    (s) => s.name === ref.name && (!ref.namespace || !s.namespace || s.namespace === ref.namespace),
  );
  return found.length === 1 ? found[0] : undefined;
}

/** Credentials objects never print their values, even by accident. */
export function sealCredentials(c: Credentials): Credentials {
  const sealed = { ...c, headers: c.headers ? Object.freeze({ ...c.headers }) : undefined };
  if (!sealed.headers) delete sealed.headers;
  Object.defineProperty(sealed, 'toJSON', { value: () => '[redacted credentials]', enumerable: false });
  Object.defineProperty(sealed, Symbol.for('nodejs.util.inspect.custom'), {
    value: () => '[redacted credentials]',
    enumerable: false,
  });
  return Object.freeze(sealed);
}
