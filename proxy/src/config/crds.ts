import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The API group and version of every Orchard kind. */
export const apiGroup = 'orchard.dev';
export const apiVersion = 'orchard.dev/v1alpha1';
export const kinds = ['Remote', 'VirtualRepository', 'Project', 'Package'] as const;
export type Kind = (typeof kinds)[number];

/** A JSON-schema node as it appears in a CRD's openAPIV3Schema. */
export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  'x-kubernetes-validations'?: CelRule[];
  [keyword: string]: unknown;
}

/** One `x-kubernetes-validations` entry. The message starts with the rule id: `id: text`. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

export interface CrdInfo {
  kind: Kind;
  plural: string;
  file: string;
  /** The served version's `openAPIV3Schema`. */
  schema: SchemaNode;
}

/** `crds/` at the repository root; a container image must ship it next to `proxy/`. */
export const defaultCrdDir: string = fileURLToPath(new URL('../../../crds/', import.meta.url));

/**
 * Read every `*.yaml` CRD of group orchard.dev in `dir`. Throws when a kind is
 * missing or a file is not a v1alpha1 CRD of this group, because the config
 * schema would otherwise silently shrink.
 */
export function readCrds(dir: string = defaultCrdDir): Map<Kind, CrdInfo> {
  const out = new Map<Kind, CrdInfo>();
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  for (const name of files) {
    const file = join(dir, name);
    const crd = parse(readFileSync(file, 'utf8')) as {
      kind?: string;
      spec?: {
        group?: string;
        names?: { kind?: string; plural?: string };
        versions?: { name: string; schema?: { openAPIV3Schema?: SchemaNode } }[];
      };
    };
    if (crd?.kind !== 'CustomResourceDefinition' || crd.spec?.group !== apiGroup) {
      throw new Error(`${file}: not a CustomResourceDefinition of group ${apiGroup}`);
    }
    const kind = crd.spec.names?.kind as Kind;
    if (!kinds.includes(kind)) throw new Error(`${file}: unknown kind ${kind}`);
    const version = crd.spec.versions?.find((v) => v.name === 'v1alpha1');
    const schema = version?.schema?.openAPIV3Schema;
    if (!schema) throw new Error(`${file}: no v1alpha1 openAPIV3Schema`);
    out.set(kind, { kind, plural: crd.spec.names?.plural ?? '', file, schema });
  }
  for (const kind of kinds) {
    if (!out.has(kind)) throw new Error(`${dir}: no CRD for kind ${kind}`);
  }
  return out;
}

/** Every CEL rule of a CRD schema, with the JSON path of the schema node that carries it. */
export function collectCelRules(
  schema: SchemaNode,
  path = '',
): { path: string; id: string; rule: CelRule }[] {
  const out: { path: string; id: string; rule: CelRule }[] = [];
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    out.push({ path: path || '/', id: celRuleId(rule), rule });
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    out.push(...collectCelRules(child, `${path}/${key}`));
  }
  if (schema.items) out.push(...collectCelRules(schema.items, `${path}/*`));
  return out;
}

/** The id a CEL rule's message starts with (`remote-needs-base-url: ...`). */
export function celRuleId(rule: CelRule): string {
  const m = /^([a-z0-9-]+):/.exec(rule.message);
  if (!m) throw new Error(`CEL rule message must start with "<rule-id>:": ${rule.message}`);
  return m[1];
}

/** Whether a CEL rule compares against the stored object (runs on update only). */
export function isTransitionRule(rule: CelRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}
