/**
 * The alerts (files/prometheus-rules.yaml) and the Grafana dashboard
 * (files/dashboards/orchard.json) read only metrics and labels that exist:
 * a real proxy is started in-process on embedded backends and the operator's
 * metrics are created, and every metric, label and literal label value used
 * is checked against what they register and the source code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createOperatorMetrics } from '../../operator/src/metrics.ts';
import { createLogger } from '../../proxy/src/http/logger.ts';
import { loadSettings } from '../../proxy/src/settings.ts';
import { type RunningProxy, startProxy } from '../../proxy/src/start.ts';
import { tmpDir } from '../harness/index.ts';
import { chartDir, repoRoot } from './lib/chart.ts';
import { balanced, groupingLabels, literalValues, resultLabels, selectors } from './lib/promql.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}
interface Target {
  expr: string;
  legendFormat: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: Target[];
}

/** Grafana's data source variable reference, literally. */
const DATASOURCE = '$' + '{datasource}';

/** Labels Prometheus adds to every scraped series (ServiceMonitor targets). */
const TARGET_LABELS = ['namespace', 'pod', 'service', 'endpoint', 'job', 'instance', 'container'];

const rules: Rule[] = parse(readFileSync(join(chartDir, 'files/prometheus-rules.yaml'), 'utf8')).flatMap(
  (g: { rules: Rule[] }) => g.rules,
);
const dashboard = JSON.parse(readFileSync(join(chartDir, 'files/dashboards/orchard.json'), 'utf8'));
const panels: Panel[] = dashboard.panels.filter((p: Panel) => p.type !== 'row');
const exprs: [string, string][] = [
  ...rules.map((r): [string, string] => [`alert ${r.alert}`, r.expr]),
  ...panels.flatMap((p) =>
    (p.targets ?? []).map((t): [string, string] => [`panel "${p.title}" ${t.refId}`, t.expr]),
  ),
  ...dashboard.templating.list
    .filter((v: { type: string }) => v.type === 'query')
    .map((v: { name: string; definition: string }): [string, string] => [`variable ${v.name}`, v.definition]),
];

function sourceText(dir: string): string {
  return readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(repoRoot, dir, f), 'utf8'))
    .join('\n');
}

describe('metrics used by the alerts and the dashboard', () => {
  const families = new Map<string, { type: string; labels: string[] }>();
  let proxy: RunningProxy | undefined;
  const source = `${sourceText('proxy/src')}\n${sourceText('operator/src')}`;

  beforeAll(async () => {
    const dir = await tmpDir('helm-metrics-');
    const registry = new Registry();
    const settings = loadSettings({
      ORCHARD_SERVER_HOST: '127.0.0.1',
      ORCHARD_SERVER_PORT: '0',
      ORCHARD_DATA_DIR: join(dir, 'data'),
      ORCHARD_CONFIG: join(repoRoot, 'config/samples'),
    });
    proxy = await startProxy(settings, { registry, logger: createLogger({ level: 'error' }) });
    createOperatorMetrics(registry);
    for (const m of registry.getMetricsAsArray()) {
      const { name, type, labelNames } = m as unknown as { name: string; type: string; labelNames: string[] };
      families.set(name, { type: String(type), labels: labelNames });
    }
  });
  afterAll(async () => {
    await proxy?.close();
  });

  /** The family a series name belongs to, and the labels that series has. */
  function family(series: string): { name: string; labels: string[] } | undefined {
    const direct = families.get(series);
    if (direct) return { name: series, labels: direct.labels };
    const m = /^(.*)_(bucket|sum|count)$/.exec(series);
    if (!m) return undefined;
    const base = families.get(m[1]);
    if (base?.type !== 'histogram') return undefined;
    return { name: m[1], labels: m[2] === 'bucket' ? [...base.labels, 'le'] : base.labels };
  }

  it('found the proxy and operator families (the probe itself works)', () => {
    expect(families.has('orchard_cache_requests_total')).toBe(true);
    expect(families.has('orchard_operator_reconcile_total')).toBe(true);
  });

  it.each(exprs)('%s reads registered metrics, named in the source, with their labels', (_where, expr) => {
    const sels = selectors(expr);
    expect(sels.length).toBeGreaterThan(0);
    const available = new Set(TARGET_LABELS);
    for (const s of sels) {
      const f = family(s.metric);
      expect(f, `${s.metric} is not registered by the proxy or the operator`).toBeDefined();
      expect(source, `${f!.name} does not appear in proxy/src or operator/src`).toContain(f!.name);
      for (const l of f!.labels) available.add(l);
      for (const m of s.matchers) {
        expect([...f!.labels, ...TARGET_LABELS], `${s.metric}{${m.label}}`).toContain(m.label);
        for (const v of literalValues(m)) {
          expect(source, `${s.metric}{${m.label}="${v}"}: no '${v}' in the source`).toMatch(
            new RegExp(`['"\`]${v}['"\`]`),
          );
        }
      }
    }
    for (const l of groupingLabels(expr)) expect([...available], `by (${l})`).toContain(l);
  });
});

describe('alert rules', () => {
  it('have unique Orchard* names, a severity, a summary and a description', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.alert).toMatch(/^Orchard[A-Z][A-Za-z0-9]+$/);
      expect(['warning', 'critical', 'info']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      expect(r.annotations.description.length).toBeGreaterThan(20);
      if (r.for !== undefined) expect(r.for).toMatch(/^\d+[smh]$/);
      expect(balanced(r.expr), r.alert).toBe(true);
    }
  });

  it.each(rules.map((r) => [r.alert, r] as const))(
    '%s uses in its text only labels its result keeps',
    (_n, r) => {
      const keeps = resultLabels(r.expr);
      const used = [
        ...`${r.annotations.summary} ${r.annotations.description}`.matchAll(/\$labels\.(\w+)/g),
      ].map((m) => m[1]);
      for (const l of used) expect([...keeps], `$labels.${l}`).toContain(l);
    },
  );

  it('cover what the chart promises: upstream errors, integrity, config reloads, 5xx, storage latency', () => {
    const metricsOf = (r: Rule) => selectors(r.expr).map((s) => s.metric);
    const covered = new Set(rules.flatMap(metricsOf));
    for (const m of [
      'orchard_upstream_requests_total',
      'orchard_integrity_failures_total',
      'orchard_config_reload_failures_total',
      'orchard_http_requests_total',
      'orchard_storage_operation_duration_seconds_bucket',
    ]) {
      expect([...covered]).toContain(m);
    }
  });
});

describe('Grafana dashboard', () => {
  it('has unique panel ids and non-overlapping panels within 24 columns', () => {
    const all: Panel[] = dashboard.panels;
    const ids = all.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of all) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it('queries the datasource variable, with unique refIds, variables that exist and legends its results label', () => {
    const vars = new Set<string>(dashboard.templating.list.map((v: { name: string }) => v.name));
    expect(vars.has('datasource')).toBe(true);
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe(DATASOURCE);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(refIds.length, p.title).toBeGreaterThan(0);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets ?? []) {
        expect(balanced(t.expr), `${p.title}: ${t.expr}`).toBe(true);
        for (const [, v] of t.expr.matchAll(/\$(\w+)/g))
          if (!v.startsWith('__')) expect(vars, v).toContain(v);
        const legend = [...t.legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
        for (const l of legend) expect([...resultLabels(t.expr)], `${p.title} legend ${l}`).toContain(l);
      }
    }
  });

  it('has the panels the chart promises', () => {
    const used = (metric: string, by?: string) =>
      panels.some((p) =>
        (p.targets ?? []).some(
          (t) => t.expr.includes(metric) && (!by || groupingLabels(t.expr).includes(by)),
        ),
      );
    expect(used('orchard_http_requests_total')).toBe(true);
    expect(used('orchard_cache_requests_total', 'result')).toBe(true);
    expect(
      panels.some(
        (p) => p.title === 'Cache hit ratio' && p.targets?.[0].expr.includes('orchard_cache_requests_total'),
      ),
    ).toBe(true);
    expect(
      panels.some((p) => {
        const e = (p.targets ?? []).map((t) => t.expr).join(' ');
        return e.includes('orchard_upstream_bytes_total') && e.includes('orchard_served_bytes_total');
      }),
    ).toBe(true);
    for (const m of [
      'orchard_singleflight_followers_total',
      'orchard_cache_fill_duration_seconds_bucket',
      'orchard_storage_operation_duration_seconds_bucket',
    ]) {
      expect(used(m), m).toBe(true);
    }
    expect(used('orchard_operator_reconcile_total', 'result')).toBe(true);
  });
});
