/**
 * config/rbac grants exactly what the operator uses: every request the
 * operator makes in a scenario touching all its features must be allowed by
 * the ClusterRole (cluster-scoped kinds) or the Role (its namespace), and
 * every rule must be used by some request (no unused grant).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type FakeCluster, type RecordedRequest, startFakeCluster } from '../fake-apiserver/index.ts';
import {
  condition,
  type FakeProxyApi,
  ns,
  pkg,
  project,
  ref,
  remote,
  startFakeProxyApi,
  startOperator,
  type TestOperator,
  virtual,
} from './harness.ts';
import { eventually } from './helpers.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const root = join(import.meta.dirname, '../..');
const rulesOf = (file: string): Rule[] =>
  parseAllDocuments(readFileSync(join(root, 'config/rbac', file), 'utf8')).flatMap(
    (d) => (d.toJS() as { rules?: Rule[] }).rules ?? [],
  );

interface Access {
  group: string;
  resource: string;
  verb: string;
  name?: string;
  namespace?: string;
}

function accessOf(r: RecordedRequest): Access {
  const parts = r.path.split('/').filter(Boolean);
  const [group, rest] = parts[0] === 'api' ? ['', parts.slice(2)] : [parts[1], parts.slice(3)];
  let namespace: string | undefined;
  let tail = rest;
  if (tail[0] === 'namespaces') {
    namespace = tail[1];
    tail = tail.slice(2);
  }
  const [plural, name, sub] = tail;
  const verbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  const verb = r.method === 'GET' ? (r.watch ? 'watch' : name ? 'get' : 'list') : verbs[r.method];
  return { group, resource: sub ? `${plural}/${sub}` : plural, verb, name, namespace };
}

function allowedBy(rules: Rule[], a: Access): Rule | undefined {
  return rules.find(
    (rule) =>
      rule.apiGroups.includes(a.group) &&
      rule.resources.includes(a.resource) &&
      rule.verbs.includes(a.verb) &&
      (!rule.resourceNames || (a.name !== undefined && rule.resourceNames.includes(a.name))),
  );
}

describe('RBAC in config/rbac', () => {
  let cluster: FakeCluster;
  let proxy: FakeProxyApi;
  let t: TestOperator;

  beforeAll(async () => {
    cluster = await startFakeCluster({ bookmarkIntervalMs: 500 });
    proxy = await startFakeProxyApi();
    t = await startOperator(cluster, { proxyUrl: proxy.url });
    cluster.objects.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hub-creds', namespace: ns },
      stringData: { token: 't0ken' },
    });
    cluster.objects.create(
      remote('hub', {
        package: 'docker',
        mirrorOf: ['docker.io'],
        auth: { secretRef: { name: 'hub-creds' } },
      }),
    );
    cluster.objects.create(virtual('hubs', 'docker', ['hub', 'missing']));
    cluster.objects.create(project('team', { deletionPolicy: 'Delete' }));
    cluster.objects.create(pkg('tool', 'team', { deletionPolicy: 'Delete' }));
    proxy.respond.set('DELETE /api/v1/project/team/packages/tool', { status: 503 });
    proxy.respond.set('DELETE /api/v1/projects/team', { status: 204 });
    await eventually(() =>
      expect(condition(cluster.objects.get(ref('Package', 'tool')), 'Ready')?.status).toBe('True'),
    );
    const credentials = () =>
      cluster.objects.get({ apiVersion: 'v1', kind: 'Secret', name: 'orchard-credentials', namespace: ns })
        ?.data;
    const before = JSON.stringify(credentials());
    cluster.objects.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hub-creds', namespace: ns },
      stringData: { token: 'rotated' },
    });
    await eventually(() => expect(JSON.stringify(credentials())).not.toBe(before));
    await eventually(() =>
      expect(condition(cluster.objects.get(ref('VirtualRepository', 'hubs')), 'Ready')?.status).toBe('False'),
    );
    cluster.objects.delete(ref('Package', 'tool'));
    // Two failed deletes record one DeleteFailed Event and then bump its count.
    await eventually(() =>
      expect(cluster.objects.list('v1', 'Event', ns).some((e) => (e as { count?: number }).count === 2)).toBe(
        true,
      ),
    );
    proxy.respond.set('DELETE /api/v1/project/team/packages/tool', { status: 204 });
    cluster.objects.delete(ref('Project', 'team'));
    await eventually(() => expect(cluster.objects.get(ref('Project', 'team'))).toBeUndefined());
    await t.op.stop(); // releases the Lease
  }, 60_000);

  afterAll(async () => {
    await cluster.close();
    await proxy.close();
  });

  it('allows every request the operator made, each in the right scope', () => {
    const clusterRules = rulesOf('cluster_role.yaml');
    const nsRules = rulesOf('role.yaml');
    const denied: string[] = [];
    for (const r of cluster.server.requests.filter((x) => x.token === 'op-a')) {
      const a = accessOf(r);
      const rules = a.namespace === undefined ? clusterRules : a.namespace === ns ? nsRules : [];
      if (!allowedBy(rules, a))
        denied.push(`${a.verb} ${a.group || 'core'}/${a.resource} ${a.namespace ?? ''}/${a.name ?? ''}`);
    }
    expect(denied).toEqual([]);
  });

  it('grants nothing the operator does not use', () => {
    const accesses = cluster.server.requests.filter((x) => x.token === 'op-a').map(accessOf);
    const unused: string[] = [];
    for (const [file, scoped] of [
      ['cluster_role.yaml', (a: Access) => a.namespace === undefined],
      ['role.yaml', (a: Access) => a.namespace === ns],
    ] as const) {
      for (const rule of rulesOf(file)) {
        for (const verb of rule.verbs) {
          for (const resource of rule.resources) {
            const used = accesses.some(
              (a) => scoped(a) && a.verb === verb && a.resource === resource && allowedBy([rule], a),
            );
            if (!used) unused.push(`${file}: ${verb} ${resource}`);
          }
        }
      }
    }
    expect(unused).toEqual([]);
  });
});
