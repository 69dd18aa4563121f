/**
 * TypeScript counterparts of the CRDs' CEL rules (`x-kubernetes-validations`).
 * ajv cannot run CEL, so each rule is restated here once as a predicate, keyed
 * by the rule id its CEL message starts with. The message and field path are
 * read from the CRD, so they are written once. cross-field-rules.test.ts
 * fails when a CEL rule has no counterpart here or the other way round.
 *
 * Predicates take specs after defaulting, as CEL does in the API server.
 */
import type { PackageSpec, RemoteSpec } from './crd-types.generated.ts';
import { collectCelRules, type Kind, readCrds } from './crds.ts';
import type { SchemaIssue } from './schemas.ts';

/** Holds for a valid spec; false is a violation. */
type Predicate<S> = (spec: S) => boolean;
/** Transition rules compare the new spec with the stored one (updates only). */
type TransitionPredicate<S> = (spec: S, old: S) => boolean;

const has = (v: unknown): boolean => v !== undefined && v !== null;
const nonEmpty = (v: unknown[] | undefined): boolean => (v?.length ?? 0) > 0;

export const specRules: {
  Remote: Record<string, Predicate<RemoteSpec>>;
  [kind: string]: Record<string, Predicate<never>>;
} = {
  Remote: {
    'remote-needs-base-url': (s) => s.type !== 'remote' || has(s.baseUrl),
    'local-has-no-base-url': (s) => s.type !== 'local' || !has(s.baseUrl),
    'mirror-of-docker-remote': (s) =>
      !nonEmpty(s.mirrorOf) || (s.package === 'docker' && s.type === 'remote'),
    'quarantine-remote-only': (s) => !has(s.quarantine) || s.type === 'remote',
    'quarantine-exempt-needs-days': (s) =>
      !nonEmpty(s.quarantine?.exemptPatterns) || (s.quarantine?.days ?? 0) > 0,
    'auth-remote-only': (s) => !has(s.auth) || s.type === 'remote',
    'pypi-index-url-pypi-only': (s) => !has(s.options?.pypiIndexUrl) || s.package === 'pypi',
    'checksum-sidecar-generic-only': (s) => !has(s.options?.checksumSidecar) || s.package === 'generic',
    'token-realm-hosts-docker-only': (s) => !has(s.options?.tokenRealmHosts) || s.package === 'docker',
  },
  VirtualRepository: {},
  Project: {},
  Package: {},
};

export const transitionRules: {
  Package: Record<string, TransitionPredicate<PackageSpec>>;
  [kind: string]: Record<string, TransitionPredicate<never>>;
} = {
  Remote: {},
  VirtualRepository: {},
  Project: {},
  Package: {
    'package-project-immutable': (s, old) => s.project === old.project,
    'package-name-immutable': (s, old) => s.name === old.name,
  },
};

interface RuleText {
  message: string;
  path: string;
}

const ruleTexts = new Map<string, Map<string, RuleText>>();

function textsFor(crdDir?: string): Map<string, RuleText> {
  const key = crdDir ?? '';
  let texts = ruleTexts.get(key);
  if (!texts) {
    texts = new Map();
    for (const crd of readCrds(crdDir).values()) {
      for (const { path, id, rule } of collectCelRules(crd.schema)) {
        const field = rule.fieldPath ? rule.fieldPath.replace(/^\./, '/').replaceAll('.', '/') : '';
        texts.set(id, { message: rule.message.slice(id.length + 1).trim(), path: path + field });
      }
    }
    ruleTexts.set(key, texts);
  }
  return texts;
}

function issue(id: string, crdDir?: string): SchemaIssue {
  const t = textsFor(crdDir).get(id);
  return { rule: `cel:${id}`, path: t?.path ?? '/spec', message: t?.message ?? id };
}

/** Violations of the CEL rules of `kind` that need no stored object. */
export function checkCrossFieldRules(kind: Kind, spec: unknown, crdDir?: string): SchemaIssue[] {
  const rules = specRules[kind] as Record<string, Predicate<unknown>>;
  return Object.entries(rules)
    .filter(([, holds]) => !holds(spec))
    .map(([id]) => issue(id, crdDir));
}

/** Violations of the CEL transition rules of `kind` (an update from `old` to `spec`). */
export function checkTransitionRules(
  kind: Kind,
  spec: unknown,
  old: unknown,
  crdDir?: string,
): SchemaIssue[] {
  const rules = transitionRules[kind] as Record<string, TransitionPredicate<unknown>>;
  return Object.entries(rules)
    .filter(([, holds]) => !holds(spec, old))
    .map(([id]) => issue(id, crdDir));
}
