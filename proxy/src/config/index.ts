/**
 * Orchard's one configuration model. The CRDs in crds/ are its schema; this
 * module validates documents against them (ajv, plus TypeScript counterparts
 * of the CEL rules, plus semantic rules across resources) and builds one
 * immutable, normalized OrchardConfig.
 *
 * Roles:
 * - loadConfig(path): standalone mode. A file or a directory of YAML: custom
 *   resources, v1 Secrets (for auth.secretRef), or the seed's remotes.yaml
 *   (converted). Throws ConfigError with every issue: file, document, line,
 *   JSON path and rule. Nothing partial is ever returned.
 * - normalizeDocuments(docs): the same validation for in-memory documents; the
 *   operator calls it (or buildConfig, which keeps the valid resources and
 *   reports each invalid one) with the objects it lists from the API server.
 * - renderConfigDocuments(cfg): the ConfigMap and Secret payloads the operator
 *   writes; loadConfig on a directory holding both gives back the same config.
 * - ConfigWatcher: hot reload with last-good semantics and metrics.
 * - The semantic rules and CEL counterparts are exported as pure functions so
 *   the operator judges resources exactly as the proxy does.
 *
 * Thread-safety: every returned config is deep-frozen and safe to share; a
 * reload produces a new object, so hold `current()` for the length of a request.
 */
export type {
  Package,
  PackageSpec,
  PackageStatus,
  Project,
  ProjectSpec,
  ProjectStatus,
  Remote,
  RemoteSpec,
  RemoteStatus,
  VirtualRepository,
  VirtualRepositorySpec,
  VirtualRepositoryStatus,
} from './crd-types.generated.ts';
export { apiVersion, defaultCrdDir, type Kind, kinds, readCrds } from './crds.ts';
export { checkCrossFieldRules, checkTransitionRules } from './cross-field-rules.ts';
export { type LoadOptions, loadConfig, type ReadResult, readConfig } from './load.ts';
export {
  type BuildOptions,
  type BuildResult,
  buildConfig,
  type InputDocument,
  normalizeDocuments,
} from './normalize.ts';
export { type RenderedConfig, renderConfigDocuments } from './render.ts';
export { specValidator } from './schemas.ts';
export { type ParsedSecret, parseSecret, resolveSecret } from './secrets.ts';
export {
  checkName,
  checkPackageProject,
  checkRemotePatterns,
  checkSecretRef,
  checkVirtualMembers,
  compilePattern,
  findMirrorConflicts,
  findPackageNameConflicts,
  type RepositoryRef,
  type SemanticIssue,
} from './semantic.ts';
export {
  ConfigError,
  type ConfigIssue,
  type Credentials,
  formatIssue,
  type OrchardConfig,
  type PackageConfig,
  type PackageType,
  type ProjectConfig,
  type RemoteConfig,
  type StaleOnError,
  type VirtualConfig,
} from './types.ts';
export { ConfigWatcher, type ConfigWatcherOptions, type ReloadOutcome } from './watcher.ts';
