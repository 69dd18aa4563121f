import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { type Kind, kinds, readCrds, type SchemaNode } from './crds.ts';

// ajv-formats is CommonJS; under Node's ESM loader its default export is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** A schema violation at a JSON pointer inside the validated object. */
export interface SchemaIssue {
  path: string;
  rule: string;
  message: string;
}

/**
 * Validates (and defaults, in place) the `spec` of each kind against the CRD
 * schemas. Compiled once per CRD directory; safe to share.
 */
export interface SpecValidator {
  /** Mutates `spec` by filling defaults, as the API server's defaulting does. */
  validateSpec(kind: Kind, spec: unknown): SchemaIssue[];
}

const cache = new Map<string, SpecValidator>();

/** The validator for the CRDs in `crdDir`, compiled on first use. Throws if the CRDs cannot be read. */
export function specValidator(crdDir?: string): SpecValidator {
  const key = crdDir ?? '';
  let v = cache.get(key);
  if (!v) {
    v = compileSpecValidator(crdDir);
    cache.set(key, v);
  }
  return v;
}

function compileSpecValidator(crdDir?: string): SpecValidator {
  const crds = readCrds(crdDir);
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false });
  addFormats(ajv);
  for (const keyword of [
    'x-kubernetes-validations',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-list-type',
  ]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-map-keys',
    type: 'array',
    schemaType: 'array',
    error: { message: 'has two entries with the same key' },
    validate: (keys: string[], data: Record<string, unknown>[]) => {
      const seen = new Set<string>();
      for (const item of data) {
        const id = JSON.stringify(keys.map((k) => item?.[k]));
        if (seen.has(id)) return false;
        seen.add(id);
      }
      return true;
    },
  });
  const validators = new Map<Kind, ValidateFunction>();
  for (const kind of kinds) {
    const spec = crds.get(kind)!.schema.properties?.spec;
    if (!spec) throw new Error(`CRD of ${kind} has no spec schema`);
    validators.set(kind, ajv.compile(toAjvSchema(spec)));
  }
  return {
    validateSpec(kind, spec) {
      const validate = validators.get(kind)!;
      if (validate(spec)) return [];
      return (validate.errors ?? []).map((e) => toIssue(e, '/spec'));
    },
  };
}

/**
 * Translate the Kubernetes dialect of OpenAPI into plain JSON Schema:
 * - objects with `properties` reject unknown fields (what `kubectl apply`'s
 *   strict field validation does; structural schemas cannot say it themselves);
 * - `x-kubernetes-list-type: set` means unique items.
 * CEL rules (`x-kubernetes-validations`) cannot run here; their TypeScript
 * counterparts live in cross-field-rules.ts.
 */
export function toAjvSchema(node: SchemaNode): SchemaNode {
  const out: SchemaNode = { ...node };
  if (node.properties) {
    out.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toAjvSchema(v)]));
    if (!node['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  }
  if (node.items) out.items = toAjvSchema(node.items);
  if (node['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  return out;
}

function toIssue(e: ErrorObject, prefix: string): SchemaIssue {
  let path = prefix + e.instancePath;
  let message = e.message ?? 'is invalid';
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    path += `/${escapePointer(String(params.additionalProperty))}`;
    message = 'is not a field of this kind';
  } else if (e.keyword === 'required') {
    path += `/${escapePointer(String(params.missingProperty))}`;
    message = 'is required';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return { path, rule: `schema:${e.keyword}`, message };
}

export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
