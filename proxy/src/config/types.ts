/**
 * The normalized, immutable configuration the proxy runs on. Built from the
 * custom resources (or a converted seed remotes.yaml) by normalizeDocuments;
 * every default is filled and every pattern compiled.
 */
import type { PackageSpec, ProjectSpec, RemoteSpec } from './crd-types.generated.ts';

export type PackageType = RemoteSpec['package'];
export type StaleOnError = 'network' | '429' | '5xx';
export type RemoteOptions = NonNullable<RemoteSpec['options']>;

export interface RemoteConfig {
  readonly name: string;
  readonly type: 'remote' | 'local';
  readonly package: PackageType;
  /** Absent for type local. */
  readonly baseUrl?: string;
  readonly description: string;
  /** Compiled `immutablePatterns` (no flags); empty means "every path allowed". */
  readonly immutablePatterns: readonly RegExp[];
  readonly mutablePatterns: readonly RegExp[];
  /** The pattern strings as written, index-aligned with the compiled ones. */
  readonly immutablePatternSources: readonly string[];
  readonly mutablePatternSources: readonly string[];
  readonly checkMutableUpdates: boolean;
  /** Seconds; immutableTtl 0 keeps immutable content forever, negativeTtl 0 disables negative caching. */
  readonly cache: {
    readonly immutableTtl: number;
    readonly mutableTtl: number;
    readonly negativeTtl: number;
  };
  /** Present only when quarantine.days > 0. */
  readonly quarantine?: {
    readonly days: number;
    readonly exemptPatterns: readonly RegExp[];
    readonly exemptPatternSources: readonly string[];
  };
  readonly staleOnError: readonly StaleOnError[];
  /** Registry hosts (lowercase) this docker remote mirrors for containerd. */
  readonly mirrorOf: readonly string[];
  readonly options: Readonly<RemoteOptions>;
  /** Whether credentials(name) returns something; the credentials themselves are never in this object. */
  readonly hasCredentials: boolean;
  /** Where the credentials come from (not secret). Seed inline credentials show as `inline:<remote>`. */
  readonly secretRef?: { readonly name: string; readonly namespace?: string };
}

export interface VirtualConfig {
  readonly name: string;
  readonly package: PackageType;
  /** Member Remote names, highest priority first. All exist and share `package`. */
  readonly members: readonly string[];
  readonly description: string;
}

export interface ProjectConfig {
  readonly name: string;
  readonly description: string;
  readonly isPublic: boolean;
  readonly access: readonly { readonly subject: string; readonly role: 'read' | 'write' | 'admin' }[];
  readonly deletionPolicy: NonNullable<ProjectSpec['deletionPolicy']>;
}

export interface PackageConfig {
  /** The resource name (unique cluster-wide); key of OrchardConfig.packages. */
  readonly resourceName: string;
  /** The package name inside its project (spec.name, else the resource name). */
  readonly name: string;
  readonly project: string;
  readonly description: string;
  readonly format: NonNullable<PackageSpec['format']>;
  readonly platform: string;
  readonly deletionPolicy: NonNullable<PackageSpec['deletionPolicy']>;
}

/** Upstream credentials of one remote. Never logged, never serialized into /config. */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface OrchardConfig {
  /** By name, sorted by name. Remote and VirtualRepository names never collide. */
  readonly remotes: ReadonlyMap<string, RemoteConfig>;
  readonly virtuals: ReadonlyMap<string, VirtualConfig>;
  readonly projects: ReadonlyMap<string, ProjectConfig>;
  /** By resource name. (project, name) pairs are unique. */
  readonly packages: ReadonlyMap<string, PackageConfig>;
  /** Registry host (e.g. docker.io) -> name of the docker remote whose mirrorOf lists it. A closed list. */
  readonly mirrors: ReadonlyMap<string, string>;
  /** The credentials of a remote, or undefined when it has none (or does not exist). */
  credentials(remote: string): Credentials | undefined;
  /** Plain JSON for GET /config: everything except credentials (hasCredentials shows instead). */
  redacted(): unknown;
  /** Files the config was read from, in load order (empty when built from in-memory documents). */
  readonly sources: readonly string[];
  /** sha256 (hex) of the canonical redacted() JSON: equal configs have equal digests. Covers no credentials. */
  readonly digest: string;
  /** Non-fatal findings (ignored documents, overridden names, seed keys that have no effect). */
  readonly warnings: readonly ConfigIssue[];
}

/** One finding, located as precisely as the input allows. */
export interface ConfigIssue {
  /** The file (or, for API objects, a label such as `Remote/npm`). */
  file: string;
  /** 1-based position of the YAML document in its file (the caller's index for in-memory documents). */
  document: number;
  /** 1-based line in the file, when known. */
  line?: number;
  /** JSON pointer inside the document as written (seed files: seed key names). */
  path: string;
  /** Stable id of the violated rule: `yaml:*`, `schema:<keyword>`, `cel:<id>`, or a semantic rule id. */
  rule: string;
  message: string;
  kind?: string;
  name?: string;
}

/** Thrown by loadConfig/normalizeDocuments when the config is invalid. Nothing partial is returned. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    const shown = issues.slice(0, 5).map(formatIssue);
    const more = issues.length > 5 ? `; and ${issues.length - 5} more` : '';
    super(`invalid config: ${shown.join('; ')}${more}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** `file:line (document N) path: message [rule]`. */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line ? `${i.file}:${i.line}` : i.file;
  return `${where} (document ${i.document}) ${i.path || '/'}: ${i.message} [${i.rule}]`;
}
