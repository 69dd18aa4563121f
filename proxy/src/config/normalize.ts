/**
 * From documents (custom resources and v1 Secrets) to one OrchardConfig.
 * Shared by the proxy's file loader and the operator: both get the same
 * validation (CRD schema via ajv, the CEL rules' counterparts, semantic rules).
 */
import type { PackageSpec, ProjectSpec, RemoteSpec, VirtualRepositorySpec } from './crd-types.generated.ts';
import { apiVersion, type Kind, kinds } from './crds.ts';
import { checkCrossFieldRules } from './cross-field-rules.ts';
import { assembleConfig, buildPackage, buildProject, buildRemote, buildVirtual } from './model.ts';
import { specValidator } from './schemas.ts';
import { type ParsedSecret, parseSecret, resolveSecret, sealCredentials } from './secrets.ts';
import {
  checkName,
  checkPackageProject,
  checkRemotePatterns,
  checkSecretRef,
  checkVirtualMembers,
  findMirrorConflicts,
  findPackageNameConflicts,
  type RepositoryRef,
  type SemanticIssue,
} from './semantic.ts';
import { ConfigError, type ConfigIssue, type Credentials, type OrchardConfig } from './types.ts';

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

export interface BuildOptions {
  crdDir?: string;
  /** Two documents with the same name (Remote and VirtualRepository share names): keep the later or report both. */
  duplicates?: 'later-wins' | 'error';
  sources?: string[];
  /** Findings from earlier stages (file reading, seed conversion) to carry into config.warnings. */
  warnings?: ConfigIssue[];
}

export interface BuildResult {
  /** The valid resources only. */
  config: OrchardConfig;
  /** Issues of each left-out resource, by `Kind/name`. */
  rejected: Map<string, ConfigIssue[]>;
  /** Issues of documents that are not a resource at all (no kind, no name, unknown apiVersion). */
  documentIssues: ConfigIssue[];
}

interface Resource {
  kind: Kind;
  name: string;
  doc: InputDocument;
  spec: Record<string, unknown>;
  issues: ConfigIssue[];
}

/**
 * Validate all documents and build the config of the valid resources; never
 * throws for invalid input. The operator renders `config` and writes each
 * `rejected` entry into that resource's status.
 */
export function buildConfig(docs: readonly InputDocument[], opts: BuildOptions = {}): BuildResult {
  const warnings = [...(opts.warnings ?? [])];
  const documentIssues: ConfigIssue[] = [];
  const byName = new Map<string, Resource>();
  const secrets: ParsedSecret[] = [];
  const validator = specValidator(opts.crdDir);

  for (const doc of docs) {
    const at = (i: SemanticIssue, extra: Partial<ConfigIssue> = {}) => locate(doc, i, extra);
    const obj = doc.object;
    if (obj === null || obj === undefined) continue;
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      documentIssues.push(at({ path: '', rule: 'document-kind', message: 'a document must be a map' }));
      continue;
    }
    const o = obj as Record<string, unknown>;
    if (o.apiVersion === 'v1' && o.kind === 'Secret') {
      const { secret, issues } = parseSecret(o);
      documentIssues.push(...issues.map((i) => at(i, { kind: 'Secret' })));
      if (secret) secrets.push(secret);
      continue;
    }
    const kind = kinds.find((k) => k === o.kind);
    if (o.apiVersion !== apiVersion || !kind) {
      const ours = typeof o.apiVersion === 'string' && o.apiVersion.startsWith('orchard.dev/');
      if (!o.apiVersion || !o.kind || ours) {
        const message = ours
          ? `unknown kind or version ${String(o.apiVersion)} ${String(o.kind)}; expected ${apiVersion} ${kinds.join('|')}`
          : `not an ${apiVersion} resource, a v1 Secret, nor a seed remotes.yaml (no apiVersion/kind, no remotes:)`;
        documentIssues.push(at({ path: '', rule: 'document-kind', message }));
      } else {
        warnings.push(
          at({ path: '/kind', rule: 'document-ignored', message: `${o.apiVersion} ${o.kind} ignored` }),
        );
      }
      continue;
    }
    const name = (o.metadata as { name?: unknown } | undefined)?.name;
    const nameIssues = checkName(name);
    if (nameIssues.length) {
      documentIssues.push(...nameIssues.map((i) => at(i, { kind })));
      continue;
    }
    const res: Resource = { kind, name: name as string, doc, spec: {}, issues: [] };
    const key = `${kind === 'VirtualRepository' ? 'Remote' : kind}/${name}`;
    const prev = byName.get(key);
    if (prev) {
      if (opts.duplicates === 'later-wins') {
        const message = `${prev.kind} ${name} from ${prev.doc.file} (document ${prev.doc.index}) is overridden`;
        warnings.push(
          at({ path: '/metadata/name', rule: 'name-overridden', message }, { kind, name: res.name }),
        );
      } else {
        const message = `${prev.kind} ${name} is also defined (Remote and VirtualRepository names share one namespace)`;
        res.issues.push(
          at({ path: '/metadata/name', rule: 'repository-name-unique', message }, { kind, name: res.name }),
        );
        prev.issues.push(
          locate(prev.doc, { path: '/metadata/name', rule: 'repository-name-unique', message }),
        );
        byName.set(`${key}#${doc.file}#${doc.index}`, res);
        continue;
      }
    }
    byName.set(key, res);
  }

  const resources = [...byName.values()];
  for (const r of resources) validateResource(r, validator);
  checkReferences(resources, secrets);

  const rejected = new Map<string, ConfigIssue[]>();
  for (const r of resources) {
    if (r.issues.length) {
      const key = `${r.kind}/${r.name}`;
      rejected.set(key, [
        ...(rejected.get(key) ?? []),
        ...r.issues.map((i) => ({ ...i, kind: r.kind, name: r.name })),
      ]);
    }
  }
  const valid = resources.filter((r) => r.issues.length === 0);
  const credentials = new Map<string, Credentials>();
  const remotes = valid.filter((r) => r.kind === 'Remote');
  for (const r of remotes) {
    const spec = r.spec as unknown as RemoteSpec;
    const creds = spec.auth
      ? resolveSecret(secrets, spec.auth.secretRef)?.credentials
      : r.doc.inlineCredentials;
    if (creds && Object.keys(creds).length) credentials.set(r.name, sealCredentials(creds));
  }
  const config = assembleConfig({
    remotes: remotes.map((r) =>
      buildRemote(r.name, r.spec as unknown as RemoteSpec, {
        hasCredentials: credentials.has(r.name),
        // Seed inline credentials have no Secret; name them so /config shows where they come from.
        inlineSecretName: r.doc.inlineCredentials ? `inline:${r.name}` : undefined,
      }),
    ),
    virtuals: valid
      .filter((r) => r.kind === 'VirtualRepository')
      .map((r) => buildVirtual(r.name, r.spec as unknown as VirtualRepositorySpec)),
    projects: valid
      .filter((r) => r.kind === 'Project')
      .map((r) => buildProject(r.name, r.spec as ProjectSpec)),
    packages: valid
      .filter((r) => r.kind === 'Package')
      .map((r) => buildPackage(r.name, r.spec as unknown as PackageSpec)),
    credentials,
    sources: opts.sources ?? [],
    warnings,
  });
  return { config, rejected, documentIssues };
}

/**
 * Validate and normalize; throws ConfigError listing every issue when any
 * document or resource is invalid. Default: duplicates are errors.
 */
export function normalizeDocuments(docs: readonly InputDocument[], opts: BuildOptions = {}): OrchardConfig {
  const result = buildConfig(docs, opts);
  const issues = [...result.documentIssues, ...[...result.rejected.values()].flat()];
  if (issues.length) throw new ConfigError(issues);
  return result.config;
}

function validateResource(r: Resource, validator: ReturnType<typeof specValidator>): void {
  const o = r.doc.object as Record<string, unknown>;
  const raw = o.spec === undefined || o.spec === null ? {} : o.spec;
  const spec = structuredClone(raw) as Record<string, unknown>;
  const schemaIssues = validator.validateSpec(r.kind, spec);
  r.spec = spec;
  const issues: SemanticIssue[] = [...schemaIssues];
  // CEL rules and pattern checks assume a schema-valid spec, as in the API server.
  if (!schemaIssues.length) {
    issues.push(...checkCrossFieldRules(r.kind, spec));
    if (r.kind === 'Remote') issues.push(...checkRemotePatterns(spec as unknown as RemoteSpec));
  }
  r.issues.push(...issues.map((i) => locate(r.doc, i, { kind: r.kind, name: r.name })));
}

/** Rules across resources, judged against resources that are valid on their own. */
function checkReferences(resources: Resource[], secrets: ParsedSecret[]): void {
  const ok = (r: Resource) => r.issues.length === 0;
  const add = (r: Resource, issues: SemanticIssue[]) =>
    r.issues.push(...issues.map((i) => locate(r.doc, i, { kind: r.kind, name: r.name })));
  const remotes = resources.filter((r) => r.kind === 'Remote' && ok(r));
  for (const r of remotes) {
    add(
      r,
      checkSecretRef(r.spec as unknown as RemoteSpec, (ref) => !!resolveSecret(secrets, ref)),
    );
  }
  const conflicts = findMirrorConflicts(
    remotes.map((r) => ({ name: r.name, mirrorOf: (r.spec as unknown as RemoteSpec).mirrorOf })),
  );
  for (const r of remotes) add(r, conflicts.get(r.name) ?? []);

  const repos = new Map<string, RepositoryRef>(
    resources
      .filter((r) => r.kind === 'Remote' || r.kind === 'VirtualRepository')
      .map((r) => [
        r.name,
        { kind: r.kind as RepositoryRef['kind'], package: String(r.spec.package), valid: ok(r) },
      ]),
  );
  for (const r of resources.filter((r) => r.kind === 'VirtualRepository' && ok(r))) {
    add(
      r,
      checkVirtualMembers(r.spec as unknown as VirtualRepositorySpec, (n) => repos.get(n)),
    );
  }

  const projects = new Set(resources.filter((r) => r.kind === 'Project' && ok(r)).map((r) => r.name));
  const packages = resources.filter((r) => r.kind === 'Package' && ok(r));
  for (const r of packages)
    add(
      r,
      checkPackageProject(r.spec as unknown as PackageSpec, (p) => projects.has(p)),
    );
  const pkgConflicts = findPackageNameConflicts(
    packages.map((r) => ({ resourceName: r.name, spec: r.spec as unknown as PackageSpec })),
  );
  for (const r of packages) add(r, pkgConflicts.get(r.name) ?? []);
}

function locate(doc: InputDocument, i: SemanticIssue, extra: Partial<ConfigIssue> = {}): ConfigIssue {
  const where = doc.locate?.(i.path) ?? { path: i.path };
  return {
    file: doc.file,
    document: doc.index,
    ...(where.line ? { line: where.line } : {}),
    path: where.path,
    rule: i.rule,
    message: i.message,
    ...extra,
  };
}
