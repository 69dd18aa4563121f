/**
 * Operators under test: real operator code (client-node over HTTP) against
 * the fake API server, with short timings, plus a stand-in for the proxy's
 * stats and delete endpoints that records what it was asked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { createOperator, type Operator } from '../../operator/src/operator.ts';
import { silentLogger } from '../../proxy/src/http/logger.ts';
import type { FakeCluster, KubeObject } from '../fake-apiserver/index.ts';

// ajv-formats is CommonJS; under Node's ESM loader its default export is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

export const ns = 'orchard-system';
export const group = 'orchard.dev/v1alpha1';

export interface TestOperator {
  op: Operator;
  registry: Registry;
  identity: string;
}

export async function startOperator(
  cluster: FakeCluster,
  opts: { identity?: string; proxyUrl?: string; statsIntervalMs?: number; health?: boolean } = {},
): Promise<TestOperator> {
  const identity = opts.identity ?? 'op-a';
  const registry = new Registry();
  const op = createOperator({
    kubeConfig: cluster.kubeConfig(identity),
    namespace: ns,
    identity,
    logger: silentLogger,
    registry,
    proxyUrl: opts.proxyUrl,
    mirror: { url: 'http://10.96.0.50:8080' },
    health: opts.health ? { host: '127.0.0.1', port: 0 } : undefined,
    lease: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 150 },
    tuning: {
      statsIntervalMs: opts.statsIntervalMs ?? 60_000,
      watchdogMs: 2000,
      queue: { baseDelayMs: 50, maxDelayMs: 1000 },
    },
  });
  await op.start();
  return { op, registry, identity };
}

export const remote = (
  name: string,
  spec: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
) => ({
  apiVersion: group,
  kind: 'Remote',
  metadata: { name, ...meta },
  spec: { type: 'remote', package: 'generic', baseUrl: `http://127.0.0.1:9/${name}`, ...spec },
});

export const virtual = (name: string, pkg: string, members: string[]) => ({
  apiVersion: group,
  kind: 'VirtualRepository',
  metadata: { name },
  spec: { package: pkg, members },
});

export const project = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: group,
  kind: 'Project',
  metadata: { name },
  spec: { description: `project ${name}`, ...spec },
});

export const pkg = (name: string, projectName: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: group,
  kind: 'Package',
  metadata: { name },
  spec: { project: projectName, ...spec },
});

export const ref = (kind: string, name: string) => ({ apiVersion: group, kind, name });

/** The rendered config documents (parsed) from the operator's ConfigMap, or undefined when absent. */
export function renderedConfig(cluster: FakeCluster, name = 'orchard-config'): string | undefined {
  return cluster.objects.get({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns })?.data?.[
    'config.yaml' as never
  ];
}

export function configMap(cluster: FakeCluster, name: string): KubeObject | undefined {
  return cluster.objects.get({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns });
}

export function condition(o: KubeObject | undefined, type: string) {
  const conds = ((o?.status as { conditions?: Record<string, unknown>[] } | undefined)?.conditions ?? []) as {
    type: string;
    status: string;
    reason: string;
    message: string;
    lastTransitionTime: string;
    observedGeneration?: number;
  }[];
  return conds.find((c) => c.type === type);
}

/** Writes (not GET, not Leases, not Events) made with a given client token. */
export function writesBy(cluster: FakeCluster, token: string) {
  return cluster.server.requests.filter(
    (r) =>
      r.token === token && r.method !== 'GET' && !r.path.includes('/leases') && !r.path.includes('/events'),
  );
}

export interface FakeProxyApi {
  url: string;
  requests: { method: string; path: string }[];
  /** Responses by `METHOD path`; default 404 with a JSON error body. */
  respond: Map<string, { status: number; body?: unknown }>;
  close(): Promise<void>;
}

export async function startFakeProxyApi(): Promise<FakeProxyApi> {
  const requests: { method: string; path: string }[] = [];
  const respond = new Map<string, { status: number; body?: unknown }>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path });
    const r = respond.get(`${req.method} ${path}`) ?? {
      status: 404,
      body: { code: 'NOT_FOUND', detail: 'not found' },
    };
    res.writeHead(r.status, { 'Content-Type': 'application/json' });
    res.end(r.body === undefined ? '' : JSON.stringify(r.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    respond,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Throws unless the object's status validates against its CRD's status schema
 * (crds/*.yaml), as the real API server would check a status write.
 */
export function assertStatusMatchesCrd(o: KubeObject | undefined): void {
  if (!o?.status) throw new Error('no status');
  const validate = statusValidator(String(o.kind));
  if (!validate(o.status))
    throw new Error(`${o.kind}/${o.metadata.name} status: ${JSON.stringify(validate.errors)}`);
}

const validators = new Map<string, ValidateFunction>();
function statusValidator(kind: string): ValidateFunction {
  const cached = validators.get(kind);
  if (cached) return cached;
  const dir = join(import.meta.dirname, '../../crds');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const crd = parse(readFileSync(join(dir, file), 'utf8')) as {
      spec: {
        names: { kind: string };
        versions: { schema: { openAPIV3Schema: { properties: { status: object } } } }[];
      };
    };
    if (crd.spec.names.kind !== kind) continue;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const v = ajv.compile(crd.spec.versions[0].schema.openAPIV3Schema.properties.status);
    validators.set(kind, v);
    return v;
  }
  throw new Error(`no CRD for ${kind}`);
}
