/**
 * The rendered chart deploys what config/ deploys: the same RBAC rules, the
 * same containers (command, probes, ports, security contexts, mounts), the
 * same Services and HPA, and only environment variables the code reads.
 * Rendered with test/helm/lib (no helm binary here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type K8sObject, renderChart, repoRoot } from './lib/chart.ts';
import {
  configObject,
  configObjects,
  container,
  envMap,
  matches,
  podSpec,
  restrictedViolations,
} from './lib/manifests.ts';

const backends = {
  database: { host: 'pg.example.internal', existingSecret: 'orchard-db' },
  s3: { bucket: 'orchard', endpoint: 'https://s3.example.internal', existingSecret: 'orchard-s3' },
  redis: { existingSecret: 'orchard-redis' },
};
/** Everything switched on, as config/ deploys it (plus monitoring and the DaemonSet). */
const full = {
  proxy: { replicas: 2, autoscaling: { enabled: true }, ...backends },
  containerd: { nodePort: { enabled: true }, hostsSync: { enabled: true } },
  metrics: {
    serviceMonitor: { enabled: true },
    prometheusRule: { enabled: true },
    dashboard: { enabled: true },
  },
  operator: { secretNamespaces: ['team-a'] },
};

describe.each([
  ['defaults', {}],
  ['everything enabled', full],
])('rendered with %s', (_name, values) => {
  const r = renderChart(values, { namespace: 'orchard-system' });

  it('gives well-formed objects with the chart labels, namespaced ones in the release namespace', () => {
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding']);
    for (const o of r.objects) {
      expect(o.apiVersion, `${o.kind}`).toMatch(/^([a-z0-9.]+\/)?v\d/);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(o.metadata.labels?.['app.kubernetes.io/name']).toBe('orchard');
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
      if (clusterScoped.has(o.kind)) expect(o.metadata.namespace).toBeUndefined();
      else if (!o.metadata.name.startsWith('orchard-operator-secret-reader'))
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('orchard-system');
    }
    const ids = r.objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never renders a Secret nor the objects the operator owns', () => {
    expect(r.find('Secret')).toEqual([]);
    expect(r.find('ConfigMap', 'orchard-config')).toEqual([]);
    expect(r.find('ConfigMap', 'orchard-containerd-hosts')).toEqual([]);
  });

  it('has RBAC rules equal to config/rbac', () => {
    expect(r.get('ClusterRole', 'orchard-operator').rules).toEqual(
      configObject('rbac/cluster_role.yaml', 'ClusterRole').rules,
    );
    expect(r.get('Role', 'orchard-operator').rules).toEqual(configObject('rbac/role.yaml', 'Role').rules);
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const b = r.get(kind, 'orchard-operator');
      expect(b.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'orchard-operator', namespace: 'orchard-system' },
      ]);
      expect(b.roleRef.kind).toBe(kind.replace('Binding', ''));
    }
  });

  it('selects pods that exist with every Service, PDB, HPA and ServiceMonitor, on ports they expose', () => {
    const workloads = r.objects.filter((o) => ['Deployment', 'DaemonSet'].includes(o.kind));
    const podsOf = (sel: Record<string, string>) =>
      workloads.filter((w) => matches(sel, w.spec.template.metadata.labels));
    for (const w of workloads)
      expect(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels)).toBe(true);
    for (const s of r.find('Service')) {
      const [w] = podsOf(s.spec.selector);
      expect(w, `Service ${s.metadata.name}`).toBeDefined();
      const names = podSpec(w).containers.flatMap((c: { ports?: { name: string }[] }) =>
        c.ports?.map((p) => p.name),
      );
      for (const p of s.spec.ports) expect(names).toContain(p.targetPort);
    }
    for (const p of r.find('PodDisruptionBudget'))
      expect(podsOf(p.spec.selector.matchLabels)).toHaveLength(1);
    for (const h of r.find('HorizontalPodAutoscaler'))
      expect(r.get('Deployment', h.spec.scaleTargetRef.name)).toBeDefined();
    for (const m of r.find('ServiceMonitor')) {
      const services = r
        .find('Service')
        .filter((s) => matches(m.spec.selector.matchLabels, s.metadata.labels));
      // Exactly one Service each: the containerd NodePort Service must not make Prometheus scrape pods twice.
      expect(services.map((s) => s.metadata.name)).toHaveLength(1);
      expect(services[0].spec.ports.map((p: { name: string }) => p.name)).toContain(m.spec.endpoints[0].port);
    }
  });

  it('runs the operator and the proxy within Pod Security "restricted", as namespace.yaml enforces', () => {
    for (const name of ['orchard-operator', 'orchard-proxy']) {
      expect(restrictedViolations(podSpec(r.get('Deployment', name))), name).toEqual([]);
    }
  });

  it('sets only environment variables the code reads', () => {
    const proxySrc = readFileSync(join(repoRoot, 'proxy/src/settings.ts'), 'utf8');
    const operatorSrc = readFileSync(join(repoRoot, 'operator/src/main.ts'), 'utf8');
    for (const name of envMap(container(r.get('Deployment', 'orchard-proxy'))).keys()) {
      expect(proxySrc, name).toContain(`env.${name}`);
    }
    for (const name of envMap(container(r.get('Deployment', 'orchard-operator'))).keys()) {
      expect(operatorSrc, name).toContain(`env.${name}`);
    }
  });
});

describe('consistency with config/', () => {
  const r = renderChart(full, { namespace: 'orchard-system' });
  const same = (c: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, c[k]]));
  const containerKeys = ['name', 'command', 'ports', 'livenessProbe', 'readinessProbe', 'securityContext'];

  it.each([
    ['operator', 'manager/deployment.yaml', 'orchard-operator'],
    ['proxy', 'proxy/deployment.yaml', 'orchard-proxy'],
  ])('the %s container has the command, ports, probes and security context of config/', (_n, file, name) => {
    const want = configObject(file, 'Deployment');
    const got = r.get('Deployment', name);
    expect(same(container(got), containerKeys)).toEqual(same(container(want), containerKeys));
    expect(podSpec(got).securityContext).toEqual(podSpec(want).securityContext);
    expect(got.spec.selector).toEqual(want.spec.selector);
  });

  it.each([
    ['operator', 'manager/deployment.yaml', 'orchard-operator'],
    ['proxy', 'proxy/deployment.yaml', 'orchard-proxy'],
  ])('the %s gets every variable config/ sets, with the same literal values', (_n, file, name) => {
    const want = envMap(container(configObject(file, 'Deployment')));
    const got = envMap(container(r.get('Deployment', name)));
    for (const [k, e] of want) expect(got.get(k), k).toEqual(e);
  });

  it('mounts the projected config and credentials, data and tmp as config/proxy does', () => {
    const want = configObject('proxy/deployment.yaml', 'Deployment');
    const got = r.get('Deployment', 'orchard-proxy');
    expect(container(got).volumeMounts).toEqual(container(want).volumeMounts);
    expect(podSpec(got).volumes).toEqual(podSpec(want).volumes);
    expect(podSpec(got).automountServiceAccountToken).toBe(false);
  });

  it('has the Services and HPA of config/ (the node Service keeps its port, with its own component label)', () => {
    for (const [file, name] of [
      ['manager/service.yaml', 'orchard-operator-metrics'],
      ['proxy/service.yaml', 'orchard-proxy'],
      ['proxy/service.yaml', 'orchard-proxy-node'],
    ]) {
      const withType = (spec: object) => ({ type: 'ClusterIP', ...spec });
      expect(withType(r.get('Service', name).spec), name).toEqual(
        withType(configObject(file, 'Service', name).spec),
      );
    }
    expect(r.get('HorizontalPodAutoscaler', 'orchard-proxy').spec).toEqual(
      configObject('proxy/hpa.yaml', 'HorizontalPodAutoscaler').spec,
    );
  });

  it('grants a Remote-credentials namespace what secret_reader_role.example.yaml grants', () => {
    const [role, binding] = configObjects('rbac/secret_reader_role.example.yaml');
    const got = r.find('Role', 'orchard-operator-secret-reader');
    expect(got.map((o: K8sObject) => o.metadata.namespace)).toEqual(['team-a']);
    expect(got[0].rules).toEqual(role.rules);
    expect(r.get('RoleBinding', 'orchard-operator-secret-reader').subjects).toEqual(binding.subjects);
    const env = envMap(container(r.get('Deployment', 'orchard-operator')));
    expect(env.get('ORCHARD_OPERATOR_SECRET_NAMESPACES')?.value).toBe('team-a');
  });

  it('writes the Lease name into both the operator env and the Role', () => {
    const r2 = renderChart({ operator: { leaseName: 'orchard-leader' } });
    expect(
      envMap(container(r2.get('Deployment', 'orchard-operator'))).get('ORCHARD_OPERATOR_LEASE_NAME')?.value,
    ).toBe('orchard-leader');
    const leaseRule = r2
      .get('Role', 'orchard-operator')
      .rules.find(
        (x: { resourceNames?: string[]; resources: string[] }) =>
          x.resources.includes('leases') && x.resourceNames,
      );
    expect(leaseRule.resourceNames).toEqual(['orchard-leader']);
  });
});
