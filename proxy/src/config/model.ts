/**
 * Builds the frozen OrchardConfig from specs that already passed validation
 * (defaults filled, patterns known to compile, references resolved).
 */
import { createHash } from 'node:crypto';
import type { PackageSpec, ProjectSpec, RemoteSpec, VirtualRepositorySpec } from './crd-types.generated.ts';
import { compilePattern } from './semantic.ts';
import type {
  ConfigIssue,
  Credentials,
  OrchardConfig,
  PackageConfig,
  ProjectConfig,
  RemoteConfig,
  VirtualConfig,
} from './types.ts';

export function buildRemote(
  name: string,
  spec: RemoteSpec,
  opts: { hasCredentials: boolean; inlineSecretName?: string },
): RemoteConfig {
  const secretRef =
    spec.auth?.secretRef ?? (opts.inlineSecretName ? { name: opts.inlineSecretName } : undefined);
  const immutable = spec.immutablePatterns ?? [];
  const mutable = spec.mutablePatterns ?? [];
  const q = spec.quarantine;
  const exempt = q?.exemptPatterns ?? [];
  return {
    name,
    type: spec.type ?? 'remote',
    package: spec.package,
    ...(spec.baseUrl !== undefined ? { baseUrl: spec.baseUrl } : {}),
    description: spec.description ?? '',
    immutablePatterns: immutable.map(compilePattern),
    mutablePatterns: mutable.map(compilePattern),
    immutablePatternSources: [...immutable],
    mutablePatternSources: [...mutable],
    checkMutableUpdates: spec.checkMutableUpdates ?? false,
    cache: {
      immutableTtl: spec.cache?.immutableTtl ?? 0,
      mutableTtl: spec.cache?.mutableTtl ?? 3600,
      negativeTtl: spec.cache?.negativeTtl ?? 60,
    },
    ...(q && q.days > 0
      ? {
          quarantine: {
            days: q.days,
            exemptPatterns: exempt.map(compilePattern),
            exemptPatternSources: [...exempt],
          },
        }
      : {}),
    staleOnError: [...(spec.staleOnError ?? ['network'])],
    mirrorOf: (spec.mirrorOf ?? []).map((h) => h.toLowerCase()),
    options: { ...(spec.options ?? {}) },
    hasCredentials: opts.hasCredentials,
    ...(secretRef ? { secretRef: { ...secretRef } } : {}),
  };
}

export function buildVirtual(name: string, spec: VirtualRepositorySpec): VirtualConfig {
  return { name, package: spec.package, members: [...spec.members], description: spec.description ?? '' };
}

export function buildProject(name: string, spec: ProjectSpec): ProjectConfig {
  return {
    name,
    description: spec.description ?? '',
    isPublic: spec.isPublic ?? false,
    access: (spec.access ?? []).map((a) => ({ subject: a.subject, role: a.role })),
    deletionPolicy: spec.deletionPolicy ?? 'Retain',
  };
}

export function buildPackage(resourceName: string, spec: PackageSpec): PackageConfig {
  return {
    resourceName,
    name: spec.name ?? resourceName,
    project: spec.project,
    description: spec.description ?? '',
    format: spec.format ?? 'generic',
    platform: spec.platform ?? 'any',
    deletionPolicy: spec.deletionPolicy ?? 'Retain',
  };
}

export interface ConfigParts {
  remotes: RemoteConfig[];
  virtuals: VirtualConfig[];
  projects: ProjectConfig[];
  packages: PackageConfig[];
  /** By remote name; every key is a remote with hasCredentials. */
  credentials: Map<string, Credentials>;
  sources: string[];
  warnings: ConfigIssue[];
}

/** Assemble the deep-frozen config. Maps are sorted by key so equal configs are equal byte for byte. */
export function assembleConfig(parts: ConfigParts): OrchardConfig {
  const remotes = frozenMap(parts.remotes.map((r) => [r.name, deepFreeze(r)]));
  const virtuals = frozenMap(parts.virtuals.map((v) => [v.name, deepFreeze(v)]));
  const projects = frozenMap(parts.projects.map((p) => [p.name, deepFreeze(p)]));
  const packages = frozenMap(parts.packages.map((p) => [p.resourceName, deepFreeze(p)]));
  const mirrors = frozenMap(
    parts.remotes.flatMap((r) => r.mirrorOf.map((h) => [h, r.name] as [string, string])),
  );
  const credentials = new Map(parts.credentials);
  const redactedJson = JSON.stringify(canonical(redactedView(remotes, virtuals, projects, packages)));
  const digest = createHash('sha256').update(redactedJson).digest('hex');
  const config: OrchardConfig = {
    remotes,
    virtuals,
    projects,
    packages,
    mirrors,
    credentials: (remote) => credentials.get(remote),
    redacted: () => JSON.parse(redactedJson),
    sources: Object.freeze([...parts.sources]),
    digest,
    warnings: Object.freeze(parts.warnings.map((w) => Object.freeze({ ...w }))),
  };
  return Object.freeze(config);
}

function redactedView(
  remotes: ReadonlyMap<string, RemoteConfig>,
  virtuals: ReadonlyMap<string, VirtualConfig>,
  projects: ReadonlyMap<string, ProjectConfig>,
  packages: ReadonlyMap<string, PackageConfig>,
): unknown {
  return {
    remotes: [...remotes.values()].map((r) => {
      const {
        immutablePatterns,
        mutablePatterns,
        immutablePatternSources,
        mutablePatternSources,
        quarantine,
        ...rest
      } = r;
      return {
        ...rest,
        immutablePatterns: immutablePatternSources,
        mutablePatterns: mutablePatternSources,
        ...(quarantine
          ? { quarantine: { days: quarantine.days, exemptPatterns: quarantine.exemptPatternSources } }
          : {}),
      };
    }),
    virtualRepositories: [...virtuals.values()],
    projects: [...projects.values()],
    packages: [...packages.values()],
  };
}

/** JSON value with object keys sorted, for a stable digest. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object' && !(value instanceof RegExp)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A read-only map: no set/delete/clear, and the object itself is frozen. */
export function frozenMap<V>(entries: Iterable<[string, V]>): ReadonlyMap<string, V> {
  const inner = new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const view: ReadonlyMap<string, V> = {
    get: (k) => inner.get(k),
    has: (k) => inner.has(k),
    get size() {
      return inner.size;
    },
    keys: () => inner.keys(),
    values: () => inner.values(),
    entries: () => inner.entries(),
    forEach: (fn, thisArg) => {
      for (const [k, v] of inner) fn.call(thisArg, v, k, view);
    },
    [Symbol.iterator]: () => inner[Symbol.iterator](),
  };
  return Object.freeze(view);
}
