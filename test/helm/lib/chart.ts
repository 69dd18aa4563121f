/**
 * Load and render helm/orchard the way `helm template` would, with the
 * template subset of template-eval.ts: values.yaml merged with overrides,
 * the built-in objects (.Release, .Chart, .Files, .Capabilities), every file
 * under templates/ rendered (`_*` files only contribute defines), and the
 * output parsed as YAML documents. Any YAML error (duplicate keys included)
 * throws with the template's name.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { TemplateSet, type Value } from './template-eval.ts';

export const repoRoot = join(import.meta.dirname, '../../..');
export const chartDir = join(repoRoot, 'helm/orchard');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field in the tests
  [key: string]: any;
}

export interface Rendered {
  /** Output text per template path (`templates/x.yaml`), NOTES.txt included. */
  files: Map<string, string>;
  objects: K8sObject[];
  /** The first object of a kind and name; throws when there is none. */
  get(kind: string, name: string): K8sObject;
  find(kind: string, name?: string): K8sObject[];
}

export interface RenderOptions {
  namespace?: string;
  releaseName?: string;
}

export function readYaml<T = Record<string, Value>>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

export function defaultValues(): Record<string, Value> {
  return readYaml(join(chartDir, 'values.yaml'));
}

/** Helm's coalescing of user values onto chart defaults: maps merge key by key, anything else replaces. */
export function mergeValues(base: Value, over: Value): Value {
  if (isMap(base) && isMap(over)) {
    const out: Record<string, Value> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeValues(base[k], v) : v;
    return out;
  }
  return over;
}

function isMap(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function templateFiles(): string[] {
  return readdirSync(join(chartDir, 'templates'), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ya?ml|tpl|txt)$/.test(f))
    .map((f) => `templates/${f}`)
    .sort();
}

export function renderChart(overrides: Record<string, Value> = {}, opts: RenderOptions = {}): Rendered {
  const chart = readYaml(join(chartDir, 'Chart.yaml'));
  const values = mergeValues(defaultValues(), overrides);
  const set = new TemplateSet();
  const names = templateFiles();
  for (const name of names) set.add(name, readFileSync(join(chartDir, name), 'utf8'));
  const files = new Map<string, string>();
  const objects: K8sObject[] = [];
  for (const name of names) {
    if (name.split('/').pop()!.startsWith('_')) continue;
    const data = builtins(chart, values, opts, name);
    const text = set.render(name, data).replaceAll('<no value>', '');
    files.set(name, text);
    if (!/\.ya?ml$/.test(name)) continue;
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors[0].message}\n${text}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj !== null) objects.push(obj);
    }
  }
  const find = (kind: string, name?: string) =>
    objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  return {
    files,
    objects,
    find,
    get: (kind, name) => {
      const [o] = find(kind, name);
      if (!o) throw new Error(`no ${kind} ${name} rendered`);
      return o;
    },
  };
}

function builtins(chart: Record<string, Value>, values: Value, opts: RenderOptions, template: string): Value {
  return {
    Values: values,
    Release: {
      Name: opts.releaseName ?? 'orchard',
      Namespace: opts.namespace ?? 'orchard-system',
      Service: 'Helm',
      IsInstall: true,
      IsUpgrade: false,
      Revision: 1n,
    },
    Chart: {
      Name: chart.name,
      Version: chart.version,
      AppVersion: chart.appVersion,
      Description: chart.description,
      KubeVersion: chart.kubeVersion,
    },
    Files: { Get: (path: Value) => readChartFile(String(path)) },
    Capabilities: {
      KubeVersion: { Version: 'v1.31.0', Major: '1', Minor: '31' },
      APIVersions: { Has: () => true },
    },
    Template: { Name: `orchard/${template}`, BasePath: 'orchard/templates' },
  };
}

/** `.Files.Get`; strict where Helm returns "": a template naming a missing file is a bug. */
function readChartFile(path: string): string {
  if (path.startsWith('templates/') || path.includes('..')) throw new Error(`.Files.Get cannot read ${path}`);
  const full = join(chartDir, path);
  if (!existsSync(full)) throw new Error(`.Files.Get: no file ${path} in the chart`);
  return readFileSync(full, 'utf8');
}
