/**
 * From documents (custom resources and v1 Secrets) to one OrchardConfig.
 * Shared by the proxy's file loader and the operator: both get the same
 * validation (CRD schema via ajv, the CEL rules' counterparts, semantic rules).
 */
import type { PackageSpec, ProjectSpec, RemoteSpec, VirtualRepositorySpec } from './crd-types.generated.ts';
import { checkCrossFieldRules } from './cross-field-rules.ts';
import { collectDocuments, type InputDocument, locate, type Resource } from './documents.ts';
import { assembleConfig, buildPackage, buildProject, buildRemote, buildVirtual } from './model.ts';
import { specValidator } from './schemas.ts';
import { type ParsedSecret, resolveSecret, sealCredentials } from './secrets.ts';
import {
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

export type { InputDocument } from './documents.ts';

export interface BuildOptions {
  crdDir?: string;
  /** Two documents with the same name (Remote and VirtualRepository share names): keep the later, or reject both (default). */
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
  /** Issues of documents that are not a resource at all (no kind, no name, unknown apiVersion, bad Secret). */
  documentIssues: ConfigIssue[];
}

/**
 * Validate all documents and build the config of the valid resources; never
 * throws for invalid input. A resource that depends on an invalid one (a
 * virtual repository's member, a package's project) is left out too. The
 * operator renders `config` and writes each `rejected` entry into that
 * resource's status. Throws only when the CRDs themselves cannot be read.
 */
export function buildConfig(docs: readonly InputDocument[], opts: BuildOptions = {}): BuildResult {
  const validator = specValidator(opts.crdDir);
  const collected = collectDocuments(docs, opts.duplicates ?? 'error');
  const { resources, secrets } = collected;
  for (const r of resources) validateResource(r, validator, opts.crdDir);
  checkReferences(resources, secrets);

  const rejected = new Map<string, ConfigIssue[]>();
  for (const r of resources.filter((r) => r.issues.length)) {
    const key = `${r.kind}/${r.name}`;
    const issues = r.issues.map((i) => ({ ...i, kind: r.kind, name: r.name }));
    rejected.set(key, [...(rejected.get(key) ?? []), ...issues]);
  }
  const config = assemble(
    resources.filter((r) => r.issues.length === 0),
    secrets,
    opts.sources ?? [],
    [...(opts.warnings ?? []), ...collected.warnings],
  );
  return { config, rejected, documentIssues: collected.documentIssues };
}

/**
 * Validate and normalize; throws ConfigError listing every issue when any
 * document or resource is invalid. Default: duplicate names are errors.
 */
export function normalizeDocuments(docs: readonly InputDocument[], opts: BuildOptions = {}): OrchardConfig {
  const result = buildConfig(docs, opts);
  const issues = [...result.documentIssues, ...[...result.rejected.values()].flat()];
  if (issues.length) throw new ConfigError(issues);
  return result.config;
}

function validateResource(r: Resource, validator: ReturnType<typeof specValidator>, crdDir?: string): void {
  const o = r.doc.object as Record<string, unknown>;
  const spec = structuredClone(o.spec ?? {}) as Record<string, unknown>;
  const schemaIssues = validator.validateSpec(r.kind, spec);
  r.spec = spec;
  const issues: SemanticIssue[] = [...schemaIssues];
  // CEL rules and pattern checks assume a schema-valid spec, as in the API server.
  if (!schemaIssues.length) {
    issues.push(...checkCrossFieldRules(r.kind, spec, crdDir));
    if (r.kind === 'Remote') issues.push(...checkRemotePatterns(spec as unknown as RemoteSpec));
  }
  r.issues.push(...issues.map((i) => locate(r.doc, i, r)));
}

/** Rules across resources, judged against resources that are valid on their own. */
function checkReferences(resources: Resource[], secrets: ParsedSecret[]): void {
  const ok = (r: Resource) => r.issues.length === 0;
  const add = (r: Resource, issues: SemanticIssue[]) =>
    r.issues.push(...issues.map((i) => locate(r.doc, i, r)));
  const of = (kind: Resource['kind']) => resources.filter((r) => r.kind === kind && ok(r));

  const remotes = of('Remote');
  for (const r of remotes)
    add(
      r,
      checkSecretRef(asRemote(r), (ref) => !!resolveSecret(secrets, ref)),
    );
  const conflicts = findMirrorConflicts(
    remotes.map((r) => ({ name: r.name, mirrorOf: asRemote(r).mirrorOf })),
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
  for (const r of of('VirtualRepository')) {
    add(
      r,
      checkVirtualMembers(r.spec as unknown as VirtualRepositorySpec, (n) => repos.get(n)),
    );
  }

  const projects = new Set(of('Project').map((r) => r.name));
  const packages = of('Package');
  for (const r of packages)
    add(
      r,
      checkPackageProject(asPackage(r), (p) => projects.has(p)),
    );
  const pkgConflicts = findPackageNameConflicts(
    packages.map((r) => ({ resourceName: r.name, spec: asPackage(r) })),
  );
  for (const r of packages) add(r, pkgConflicts.get(r.name) ?? []);
}

function assemble(valid: Resource[], secrets: ParsedSecret[], sources: string[], warnings: ConfigIssue[]) {
  const credentials = new Map<string, Credentials>();
  const remotes = valid.filter((r) => r.kind === 'Remote');
  for (const r of remotes) {
    const auth = asRemote(r).auth;
    const creds = auth ? resolveSecret(secrets, auth.secretRef)?.credentials : r.doc.inlineCredentials;
    if (creds && Object.keys(creds).length) credentials.set(r.name, sealCredentials(creds));
  }
  const byKind = (kind: Resource['kind']) => valid.filter((r) => r.kind === kind);
  return assembleConfig({
    remotes: remotes.map((r) =>
      buildRemote(r.name, asRemote(r), {
        hasCredentials: credentials.has(r.name),
        // Seed inline credentials have no Secret; name them so /config shows where they come from.
        inlineSecretName: r.doc.inlineCredentials ? `inline:${r.name}` : undefined,
      }),
    ),
    virtuals: byKind('VirtualRepository').map((r) =>
      buildVirtual(r.name, r.spec as unknown as VirtualRepositorySpec),
    ),
    projects: byKind('Project').map((r) => buildProject(r.name, r.spec as ProjectSpec)),
    packages: byKind('Package').map((r) => buildPackage(r.name, asPackage(r))),
    credentials,
    sources,
    warnings,
  });
}

const asRemote = (r: Resource) => r.spec as unknown as RemoteSpec;
const asPackage = (r: Resource) => r.spec as unknown as PackageSpec;
