import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCrdTypes } from '../../../hack/gen-types.ts';
import { collectCelRules, kinds, readCrds, type SchemaNode } from './crds.ts';
import { toAjvSchema } from './schemas.ts';

const crds = readCrds();

/** Every schema node below the root with its JSON path. */
function walk(node: SchemaNode, path: string, out: [string, SchemaNode][] = []): [string, SchemaNode][] {
  out.push([path, node]);
  for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, `${path}.${k}`, out);
  if (node.items) walk(node.items, `${path}[]`, out);
  return out;
}

describe.each(kinds)('CRD %s', (kind) => {
  const crd = crds.get(kind)!;
  const raw = parse(readFileSync(crd.file, 'utf8'));

  it('is cluster-scoped, served as v1alpha1 with a status subresource and a short name', () => {
    expect(raw.spec.scope).toBe('Cluster');
    expect(raw.metadata.name).toBe(`${crd.plural}.orchard.dev`);
    expect(raw.spec.names.shortNames.length).toBeGreaterThan(0);
    const v = raw.spec.versions.find((x: { name: string }) => x.name === 'v1alpha1');
    expect(v.served && v.storage).toBe(true);
    expect(v.subresources).toEqual({ status: {} });
  });

  it('describes every field below spec and status', () => {
    // Scalar list items are not fields: kubectl explain shows the list's description.
    const undocumented = walk(crd.schema, '')
      .filter(
        ([path, node]) => /^\.(spec|status)/.test(path) && !(path.endsWith('[]') && node.type !== 'object'),
      )
      .filter(([, node]) => !node.description?.trim())
      .map(([path]) => path);
    expect(undocumented).toEqual([]);
  });

  it('is structural: every node has a type, objects with properties set no additionalProperties', () => {
    const bad = walk(crd.schema, '')
      .filter(([path]) => path !== '.metadata')
      .filter(([, n]) => !n.type || (n.properties && 'additionalProperties' in n))
      .map(([path]) => path);
    expect(bad).toEqual([]);
  });

  it('has defaults that validate against their own field schema', () => {
    const ajv = new Ajv({ strict: false });
    for (const [path, node] of walk(crd.schema, '')) {
      if (node.default === undefined) continue;
      const validate = ajv.compile(toAjvSchema({ ...node, default: undefined }));
      expect(validate(node.default), `${path} default`).toBe(true);
    }
  });

  it('has printer columns whose JSON paths exist in the schema', () => {
    const v = raw.spec.versions[0];
    const columns = v.additionalPrinterColumns as { name: string; jsonPath: string }[];
    expect(columns.at(-1)?.name).toBe('Age');
    const paths = new Set(walk(crd.schema, '').map(([p]) => p));
    for (const c of columns) {
      const p = c.jsonPath.replace(/\[\?\(@\.type=="Ready"\)\]\.status$/, '[].status');
      expect(paths.has(p) || p === '.metadata.creationTimestamp', `${c.name}: ${c.jsonPath}`).toBe(true);
    }
  });

  it('gives every CEL rule a unique id at the start of its message', () => {
    const ids = collectCelRules(crd.schema).map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('printer columns', () => {
  const names = (kind: (typeof kinds)[number]) =>
    parse(readFileSync(crds.get(kind)!.file, 'utf8')).spec.versions[0].additionalPrinterColumns.map(
      (c: { name: string }) => c.name,
    );
  it('show the Remote feedback fields', () => {
    expect(names('Remote')).toEqual(
      expect.arrayContaining(['Type', 'Package', 'URL', 'Ready', 'Cached Objects', 'Cached Bytes', 'Age']),
    );
  });
  it('show the Package feedback fields', () => {
    expect(names('Package')).toEqual(
      expect.arrayContaining(['Project', 'Format', 'Tags', 'Artifacts', 'Size', 'Latest', 'Ready']),
    );
  });
});

describe('generated types', () => {
  it('match the CRDs (run `npm run gen` when this fails)', () => {
    const current = readFileSync(new URL('./crd-types.generated.ts', import.meta.url), 'utf8');
    expect(current).toBe(renderCrdTypes());
  });
});

describe('docs/configuration.md', () => {
  const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

  it.each(kinds)('documents every spec field of %s', (kind) => {
    // Leaf fields; an object's fields are documented one by one.
    const fields = walk(crds.get(kind)!.schema.properties!.spec!, 'spec')
      .filter(([path, node]) => !node.properties && !path.endsWith('[]'))
      .map(([path]) => path);
    const missing = fields.filter((f) => !docs.includes(`\`${f}\``));
    expect(missing).toEqual([]);
  });

  it('lists every CEL rule id', () => {
    const ids = kinds.flatMap((k) => collectCelRules(crds.get(k)!.schema).map((r) => r.id));
    expect(ids.filter((id) => !docs.includes(`\`${id}\``))).toEqual([]);
  });
});
