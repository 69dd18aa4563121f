/**
 * The operator against the fake API server: create, update and delete of
 * each kind show in the rendered ConfigMap and in status; invalid resources
 * get Ready=False with a reason while the others keep working.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type FakeCluster, startFakeCluster } from '../fake-apiserver/index.ts';
import {
  assertStatusMatchesCrd,
  condition,
  configMap,
  ns,
  pkg,
  project,
  ref,
  remote,
  renderedConfig,
  startOperator,
  type TestOperator,
  virtual,
  writesBy,
} from './harness.ts';
import { eventually, sleep } from './helpers.ts';

let cluster: FakeCluster;
let t: TestOperator;

beforeEach(async () => {
  cluster = await startFakeCluster({ bookmarkIntervalMs: 500 });
  t = await startOperator(cluster);
});
afterEach(async () => {
  await t.op.stop();
  await cluster.close();
});

/** `Kind/name` of every document in the rendered config. */
function rendered(): string[] {
  const yaml = renderedConfig(cluster);
  if (yaml === undefined) return [];
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as { kind: string; metadata: { name: string } } | null)
    .filter((d) => d !== null)
    .map((d) => `${d.kind}/${d.metadata.name}`)
    .sort();
}

const get = (kind: string, name: string) => cluster.objects.get(ref(kind, name));

describe('operator reconcile', () => {
  it.each([
    ['Remote', () => remote('each-r', { description: 'v1' }), { description: 'v2' }, []],
    [
      'VirtualRepository',
      () => virtual('each-v', 'generic', ['each-member']),
      { description: 'v2' },
      [remote('each-member')],
    ],
    ['Project', () => project('each-p', { description: 'v1' }), { description: 'v2' }, []],
    [
      'Package',
      () => pkg('each-k', 'each-proj', { description: 'v1' }),
      { description: 'v2' },
      [project('each-proj')],
    ],
  ] as const)(
    'creates, updates and deletes a %s: ConfigMap and status follow',
    async (kind, make, change, deps) => {
      for (const d of deps) cluster.objects.create(d);
      const o = make();
      const name = o.metadata.name;
      cluster.objects.create(o);
      await eventually(() => expect(rendered()).toContain(`${kind}/${name}`));
      await eventually(() =>
        expect(condition(get(kind, name), 'Ready')).toMatchObject({ status: 'True', observedGeneration: 1 }),
      );
      cluster.objects.apply({ ...o, spec: { ...o.spec, ...change } });
      await eventually(() => expect(renderedConfig(cluster)).toContain('description: v2'));
      await eventually(() => expect(get(kind, name)?.status).toMatchObject({ observedGeneration: 2 }));
      expect(condition(get(kind, name), 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
      cluster.objects.delete(ref(kind, name));
      await eventually(() => expect(rendered()).not.toContain(`${kind}/${name}`));
      await eventually(() => expect(get(kind, name)).toBeUndefined());
    },
  );

  it('renders a Remote, reports Ready, follows updates and removes it on delete', async () => {
    cluster.objects.create(remote('files'));
    await eventually(() => expect(rendered()).toEqual(['Remote/files']));
    await eventually(() => expect(condition(get('Remote', 'files'), 'Ready')?.status).toBe('True'));
    const first = get('Remote', 'files');
    expect(first?.status).toMatchObject({ observedGeneration: 1 });
    expect(condition(first, 'Ready')).toMatchObject({ reason: 'Rendered', observedGeneration: 1 });
    expect(condition(first, 'SecretResolved')).toMatchObject({
      status: 'True',
      reason: 'NoSecretReferenced',
    });
    const since = condition(first, 'Ready')?.lastTransitionTime;

    await sleep(1100); // lastTransitionTime has whole-second resolution
    cluster.objects.apply(remote('files', { baseUrl: 'http://127.0.0.1:9/moved' }));
    await eventually(() => expect(renderedConfig(cluster)).toContain('http://127.0.0.1:9/moved'));
    await eventually(() => expect(get('Remote', 'files')?.status).toMatchObject({ observedGeneration: 2 }));
    const second = condition(get('Remote', 'files'), 'Ready');
    expect(second).toMatchObject({ status: 'True', observedGeneration: 2 });
    expect(second?.lastTransitionTime).toBe(since);

    cluster.objects.delete(ref('Remote', 'files'));
    await eventually(() => expect(rendered()).toEqual([]));
    const events = cluster.objects.list('v1', 'Event', ns);
    expect(events.some((e) => (e as { reason?: string }).reason === 'Rendered')).toBe(true);
    expect(events[0]).toMatchObject({ involvedObject: { kind: 'Remote', name: 'files' }, type: 'Normal' });
  });

  it('leaves an invalid VirtualRepository out with Ready=False and a reason; the others keep working', async () => {
    cluster.objects.create(remote('npm-a', { package: 'npm' }));
    cluster.objects.create(remote('files'));
    cluster.objects.create(virtual('npm-all', 'npm', ['npm-a', 'npm-missing']));
    cluster.objects.create(virtual('mixed', 'npm', ['npm-a', 'files']));
    await eventually(() =>
      expect(condition(get('VirtualRepository', 'npm-all'), 'Ready')?.status).toBe('False'),
    );
    expect(condition(get('VirtualRepository', 'npm-all'), 'Ready')?.reason).toBe('MemberNotFound');
    expect(condition(get('VirtualRepository', 'npm-all'), 'MembersResolved')).toMatchObject({
      status: 'False',
      reason: 'MemberNotFound',
    });
    await eventually(() =>
      expect(condition(get('VirtualRepository', 'mixed'), 'Ready')?.reason).toBe('MemberPackageMismatch'),
    );
    expect(rendered()).toEqual(['Remote/files', 'Remote/npm-a']);
    expect(condition(get('Remote', 'npm-a'), 'Ready')?.status).toBe('True');
    await eventually(() => {
      const warnings = cluster.objects
        .list('v1', 'Event', ns)
        .filter((e) => (e as { type?: string }).type === 'Warning');
      expect(warnings.map((e) => (e as { reason?: string }).reason)).toContain('MemberNotFound');
    });

    // Level-based: once the member exists, the virtual repository becomes Ready without being touched.
    cluster.objects.create(remote('npm-missing', { package: 'npm' }));
    await eventually(() =>
      expect(condition(get('VirtualRepository', 'npm-all'), 'Ready')?.status).toBe('True'),
    );
    expect(rendered()).toContain('VirtualRepository/npm-all');
    assertStatusMatchesCrd(get('VirtualRepository', 'npm-all'));
    assertStatusMatchesCrd(get('VirtualRepository', 'mixed'));
  });

  it('marks a VirtualRepository whose member is invalid as MemberNotReady', async () => {
    cluster.objects.create(remote('bad', { immutablePatterns: ['(unclosed'] }));
    cluster.objects.create(virtual('all', 'generic', ['bad']));
    await eventually(() => expect(condition(get('Remote', 'bad'), 'Ready')?.reason).toBe('InvalidPattern'));
    await eventually(() =>
      expect(condition(get('VirtualRepository', 'all'), 'Ready')?.reason).toBe('MemberNotReady'),
    );
    expect(rendered()).toEqual([]);
  });

  it('resolves a Package against its Project and adds finalizers to both', async () => {
    cluster.objects.create(pkg('tools', 'platform'));
    await eventually(() =>
      expect(condition(get('Package', 'tools'), 'Ready')?.reason).toBe('ProjectNotFound'),
    );
    cluster.objects.create(project('platform'));
    await eventually(() => expect(condition(get('Package', 'tools'), 'Ready')?.status).toBe('True'));
    expect(condition(get('Package', 'tools'), 'ProjectResolved')?.reason).toBe('ProjectReady');
    expect(rendered()).toEqual(['Package/tools', 'Project/platform']);
    expect(get('Package', 'tools')?.metadata.finalizers).toEqual(['orchard.dev/finalizer']);
    expect(get('Project', 'platform')?.metadata.finalizers).toEqual(['orchard.dev/finalizer']);
    await eventually(() => expect(get('Project', 'platform')?.status).toMatchObject({ packageCount: 1 }));
  });

  it('resolves Secrets: missing, wrong keys, then valid; credentials go to the Secret only', async () => {
    cluster.objects.create(remote('private', { auth: { secretRef: { name: 'creds' } } }));
    await eventually(() =>
      expect(condition(get('Remote', 'private'), 'Ready')?.reason).toBe('SecretNotFound'),
    );
    cluster.objects.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: ns },
      stringData: { user: 'x' },
    });
    await eventually(() =>
      expect(condition(get('Remote', 'private'), 'Ready')?.reason).toBe('SecretKeysMissing'),
    );
    cluster.objects.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: ns },
      stringData: { username: 'robot', password: 's3cr3t-value' },
    });
    await eventually(() => expect(condition(get('Remote', 'private'), 'Ready')?.status).toBe('True'));
    expect(condition(get('Remote', 'private'), 'SecretResolved')?.reason).toBe('SecretFound');
    const secret = cluster.objects.get({
      apiVersion: 'v1',
      kind: 'Secret',
      name: 'orchard-credentials',
      namespace: ns,
    });
    const creds = Buffer.from(String(secret?.data?.['credentials.yaml' as never]), 'base64').toString();
    expect(creds).toContain('s3cr3t-value');
    expect(renderedConfig(cluster)).not.toContain('s3cr3t-value');
    const statusText = JSON.stringify(cluster.objects.list('orchard.dev/v1alpha1', 'Remote'));
    const eventText = JSON.stringify(cluster.objects.list('v1', 'Event', ns));
    expect(statusText + eventText).not.toContain('s3cr3t-value');

    cluster.objects.create(remote('elsewhere', { auth: { secretRef: { name: 'x', namespace: 'other' } } }));
    await eventually(() =>
      expect(condition(get('Remote', 'elsewhere'), 'Ready')?.reason).toBe('SecretNamespaceNotWatched'),
    );
  });

  it('renders containerd hosts.toml per mirrored registry and rejects a host claimed twice', async () => {
    cluster.objects.create(remote('hub', { package: 'docker', mirrorOf: ['docker.io'] }));
    cluster.objects.create(remote('local-reg', { package: 'docker', mirrorOf: ['registry.local:5000'] }));
    await eventually(() =>
      expect(Object.keys(configMap(cluster, 'orchard-containerd-hosts')?.data ?? {}).sort()).toEqual([
        'docker.io_hosts.toml',
        'registry.local..5000_hosts.toml',
      ]),
    );
    const toml = String(
      configMap(cluster, 'orchard-containerd-hosts')?.data?.['docker.io_hosts.toml' as never],
    );
    expect(toml).toContain('server = "https://registry-1.docker.io"');
    expect(toml).toContain('[host."http://10.96.0.50:8080"]');
    expect(toml).toContain('capabilities = ["pull", "resolve"]');

    cluster.objects.create(remote('hub2', { package: 'docker', mirrorOf: ['docker.io'] }));
    await eventually(() =>
      expect(condition(get('Remote', 'hub2'), 'Ready')?.reason).toBe('MirrorHostConflict'),
    );
    await eventually(() =>
      expect(Object.keys(configMap(cluster, 'orchard-containerd-hosts')?.data ?? {})).toEqual([
        'registry.local..5000_hosts.toml',
      ]),
    );
    cluster.objects.delete(ref('Remote', 'hub2'));
    await eventually(() =>
      expect(Object.keys(configMap(cluster, 'orchard-containerd-hosts')?.data ?? {})).toContain(
        'docker.io_hosts.toml',
      ),
    );
  });

  it('writes nothing when nothing changed, even across relists and restarts', async () => {
    cluster.objects.create(
      remote(
        'tracked',
        {},
        {
          labels: { 'app.kubernetes.io/instance': 'argo-app' },
          annotations: { 'argocd.argoproj.io/tracking-id': 'argo-app:orchard.dev/Remote:/tracked' },
        },
      ),
    );
    cluster.objects.create(project('p'));
    await eventually(() => expect(condition(get('Remote', 'tracked'), 'Ready')?.status).toBe('True'));
    await eventually(() => expect(condition(get('Project', 'p'), 'Ready')?.status).toBe('True'));
    await sleep(300);
    const before = writesBy(cluster, 'op-a').length;
    const watchesBefore = cluster.server.requests.filter((r) => r.watch).length;
    cluster.server.failNextWatchesWithGone(1);
    cluster.server.dropWatches(); // every watch reconnects; one of them gets 410 and relists
    await eventually(() =>
      expect(cluster.server.requests.filter((r) => r.watch).length).toBeGreaterThanOrEqual(watchesBefore + 6),
    );
    await sleep(800);
    expect(writesBy(cluster, 'op-a').length).toBe(before);

    for (const name of ['orchard-config', 'orchard-containerd-hosts']) {
      const cm = configMap(cluster, name);
      expect(cm?.metadata.labels?.['app.kubernetes.io/instance']).toBeUndefined();
      expect(cm?.metadata.annotations?.['argocd.argoproj.io/tracking-id']).toBeUndefined();
      expect(cm?.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('orchard-operator');
    }
    // A fresh operator (new leader) reaches the same state without writing anything.
    await t.op.stop();
    t = await startOperator(cluster, { identity: 'op-b' });
    await eventually(() => expect(t.op.isLeader()).toBe(true));
    await sleep(800);
    expect(writesBy(cluster, 'op-b')).toEqual([]);
    const writes = cluster.server.requests.filter((r) => r.method !== 'GET' && !r.path.includes('/events'));
    expect(
      writes.every((r) => r.path.includes('/leases') || r.query.get('fieldManager') === 'orchard-operator'),
    ).toBe(true);
  });

  it('reports Ready=False on a schema violation and recovers when the spec is fixed', async () => {
    cluster.objects.create(remote('typo', { package: 'gems' }));
    await eventually(() => expect(condition(get('Remote', 'typo'), 'Ready')?.reason).toBe('SchemaViolation'));
    expect(condition(get('Remote', 'typo'), 'SecretResolved')?.status).toBe('True');
    cluster.objects.apply(remote('typo', { package: 'generic' }));
    await eventually(() => expect(condition(get('Remote', 'typo'), 'Ready')?.status).toBe('True'));
    const total = await t.registry.getSingleMetricAsString('orchard_operator_reconcile_total');
    expect(total).toMatch(/kind="Remote",result="terminal"/);
  });
});
