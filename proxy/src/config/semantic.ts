/**
 * Semantic rules that span resources or need more than a schema: the proxy's
 * loader and the operator's reconciler both call these, so a resource is
 * judged the same way in a cluster and standalone. All functions are pure.
 *
 * Each returns issues with a JSON pointer into the resource being checked
 * and a stable rule id; an empty list means the rule holds.
 */
import type { PackageSpec, RemoteSpec, VirtualRepositorySpec } from './crd-types.generated.ts';

export interface SemanticIssue {
  path: string;
  rule: string;
  message: string;
}

/**
 * Resource names become URL path segments. In a cluster the API server
 * enforces DNS subdomain names; standalone files (and seed remotes.yaml) may
 * also use upper case and `_`.
 */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export function checkName(name: unknown): SemanticIssue[] {
  if (typeof name !== 'string' || name === '') {
    return [{ path: '/metadata/name', rule: 'name-required', message: 'metadata.name is required' }];
  }
  if (!namePattern.test(name)) {
    return [
      {
        path: '/metadata/name',
        rule: 'name-format',
        message: `name ${JSON.stringify(name)} must start with a letter or digit and contain only letters, digits, ".", "_" and "-" (at most 253)`,
      },
    ];
  }
  return [];
}

/** Compile one user pattern as a JavaScript RegExp without flags (unanchored, like Python's re.search). */
export function compilePattern(source: string): RegExp {
  return new RegExp(source);
}

/** Every pattern list of a Remote compiles as a JavaScript regular expression. */
export function checkRemotePatterns(spec: RemoteSpec): SemanticIssue[] {
  const lists: [string, string[] | undefined][] = [
    ['/spec/immutablePatterns', spec.immutablePatterns],
    ['/spec/mutablePatterns', spec.mutablePatterns],
    ['/spec/quarantine/exemptPatterns', spec.quarantine?.exemptPatterns],
  ];
  const out: SemanticIssue[] = [];
  for (const [path, list] of lists) {
    (list ?? []).forEach((source, i) => {
      try {
        compilePattern(source);
      } catch (err) {
        out.push({ path: `${path}/${i}`, rule: 'pattern-compiles', message: patternMessage(source, err) });
      }
    });
  }
  return out;
}

function patternMessage(source: string, err: unknown): string {
  const base = `not a valid JavaScript regular expression: ${(err as Error).message}`;
  // Python-only syntax a seed remotes.yaml may carry.
  if (/\(\?P[<=]/.test(source))
    return `${base} (Python named groups (?P<n>...) are written (?<n>...) in JavaScript)`;
  if (/^\(\?[aiLmsux]+\)/.test(source)) return `${base} (inline flags such as (?i) are not supported)`;
  if (/\\[AZ]/.test(source)) return `${base} (use ^ and $ instead of \\A and \\Z)`;
  return base;
}

/** What a member name resolves to. */
export interface RepositoryRef {
  kind: 'Remote' | 'VirtualRepository';
  package: string;
  /** False when the resource exists but is itself invalid (so it is not served). */
  valid?: boolean;
}

/** Members exist, are Remotes (not virtual repositories) and share the virtual repository's package type. */
export function checkVirtualMembers(
  spec: VirtualRepositorySpec,
  lookup: (name: string) => RepositoryRef | undefined,
): SemanticIssue[] {
  const out: SemanticIssue[] = [];
  spec.members.forEach((member, i) => {
    const path = `/spec/members/${i}`;
    const ref = lookup(member);
    if (!ref) {
      out.push({
        path,
        rule: 'virtual-member-exists',
        message: `member ${JSON.stringify(member)} is not a Remote`,
      });
    } else if (ref.kind !== 'Remote') {
      out.push({
        path,
        rule: 'virtual-member-is-remote',
        message: `member ${JSON.stringify(member)} is a VirtualRepository; members must be Remotes`,
      });
    } else if (ref.valid === false) {
      out.push({
        path,
        rule: 'virtual-member-valid',
        message: `member ${JSON.stringify(member)} is an invalid Remote`,
      });
    } else if (ref.package !== spec.package) {
      out.push({
        path,
        rule: 'virtual-member-package',
        message: `member ${JSON.stringify(member)} has package ${ref.package}, not ${spec.package}`,
      });
    }
  });
  return out;
}

/** The package's project exists. */
export function checkPackageProject(
  spec: PackageSpec,
  projectExists: (name: string) => boolean,
): SemanticIssue[] {
  if (projectExists(spec.project)) return [];
  return [
    {
      path: '/spec/project',
      rule: 'package-project-exists',
      message: `project ${JSON.stringify(spec.project)} is not a Project`,
    },
  ];
}

/** The Secret a Remote's auth refers to exists. */
export function checkSecretRef(
  spec: RemoteSpec,
  secretExists: (ref: { name: string; namespace?: string }) => boolean,
): SemanticIssue[] {
  const ref = spec.auth?.secretRef;
  if (!ref || secretExists(ref)) return [];
  const where = ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
  return [{ path: '/spec/auth/secretRef', rule: 'secret-exists', message: `Secret ${where} does not exist` }];
}

/**
 * A registry host is mirrored by at most one Remote. Returns the issues of
 * every Remote that claims a host another one claims too, by Remote name.
 */
export function findMirrorConflicts(
  remotes: Iterable<{ name: string; mirrorOf?: readonly string[] }>,
): Map<string, SemanticIssue[]> {
  const claims = new Map<string, string[]>();
  for (const r of remotes) {
    for (const host of new Set((r.mirrorOf ?? []).map((h) => h.toLowerCase()))) {
      claims.set(host, [...(claims.get(host) ?? []), r.name]);
    }
  }
  const out = new Map<string, SemanticIssue[]>();
  for (const [host, names] of claims) {
    if (names.length < 2) continue;
    for (const name of names) {
      const others = names.filter((n) => n !== name).join(', ');
      const issue = {
        path: '/spec/mirrorOf',
        rule: 'mirror-of-unique',
        message: `registry host ${host} is also mirrored by ${others}`,
      };
      out.set(name, [...(out.get(name) ?? []), issue]);
    }
  }
  return out;
}

/** Two Package resources must not name the same package in the same project. By resource name. */
export function findPackageNameConflicts(
  packages: Iterable<{ resourceName: string; spec: PackageSpec }>,
): Map<string, SemanticIssue[]> {
  const byKey = new Map<string, string[]>();
  for (const p of packages) {
    const key = `${p.spec.project}/${p.spec.name ?? p.resourceName}`;
    byKey.set(key, [...(byKey.get(key) ?? []), p.resourceName]);
  }
  const out = new Map<string, SemanticIssue[]>();
  for (const [key, names] of byKey) {
    if (names.length < 2) continue;
    for (const name of names) {
      out.set(name, [
        {
          path: '/spec/name',
          rule: 'package-name-unique',
          message: `package ${key} is also defined by ${names.filter((n) => n !== name).join(', ')}`,
        },
      ]);
    }
  }
  return out;
}
