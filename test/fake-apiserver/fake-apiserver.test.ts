/**
 * The fake API server's protocol, exercised through the real client-node
 * typed APIs and Watch: what the operator suites rely on it to do faithfully.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeCluster, startFakeCluster } from './index.ts';

let cluster: FakeCluster;
let custom: CustomObjectsApi;
let core: CoreV1Api;
const base = { group: 'orchard.dev', version: 'v1alpha1', plural: 'remotes' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const body = (name: string, baseUrl = 'http://127.0.0.1:1/') => ({
  apiVersion: 'orchard.dev/v1alpha1',
  kind: 'Remote',
  metadata: { name },
  spec: { type: 'remote', package: 'generic', baseUrl },
  status: { ignored: true },
});
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { code?: number }) => e.code,
  );

beforeEach(async () => {
  cluster = await startFakeCluster({ maxHistory: 5, bookmarkIntervalMs: 50 });
  custom = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
  core = cluster.kubeConfig().makeApiClient(CoreV1Api);
});
afterEach(async () => {
  await cluster.close();
});

describe('fake API server', () => {
  it('creates with uid, creationTimestamp, generation 1 and no status; 409 on a duplicate', async () => {
    const o = await custom.createClusterCustomObject({ ...base, body: body('a') });
    expect(o.metadata).toMatchObject({ name: 'a', generation: 1, resourceVersion: '1' });
    expect(o.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(o.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(o.status).toBeUndefined();
    expect(await codeOf(custom.createClusterCustomObject({ ...base, body: body('a') }))).toBe(409);
    expect(await codeOf(custom.getClusterCustomObject({ ...base, name: 'nope' }))).toBe(404);
  });

  it('bumps generation on spec changes only; status goes through /status; 409 on a stale resourceVersion', async () => {
    const o = await custom.createClusterCustomObject({ ...base, body: body('a') });
    const labeled = await custom.patchClusterCustomObject(
      { ...base, name: 'a', body: { metadata: { labels: { x: 'y' } } } },
      merge,
    );
    expect(labeled.metadata.generation).toBe(1);
    const edited = await custom.patchClusterCustomObject(
      { ...base, name: 'a', body: { spec: { description: 'd' } } },
      merge,
    );
    expect(edited.metadata.generation).toBe(2);
    const ignored = await custom.patchClusterCustomObject(
      { ...base, name: 'a', body: { status: { x: 1 } } },
      merge,
    );
    expect(ignored.status).toBeUndefined();
    expect(ignored.metadata.resourceVersion).toBe(edited.metadata.resourceVersion); // a no-op write
    const withStatus = await custom.patchClusterCustomObjectStatus(
      {
        ...base,
        name: 'a',
        body: { status: { observedGeneration: 2 }, spec: { description: 'not applied' } },
      },
      merge,
    );
    expect(withStatus.status).toEqual({ observedGeneration: 2 });
    expect(withStatus.spec.description).toBe('d');
    expect(withStatus.metadata.generation).toBe(2);
    const stale = { ...o, spec: { ...o.spec, description: 'stale' } };
    expect(await codeOf(custom.replaceClusterCustomObject({ ...base, name: 'a', body: stale }))).toBe(409);
    const noRv = { ...body('a'), metadata: { name: 'a' } };
    expect(await codeOf(custom.replaceClusterCustomObject({ ...base, name: 'a', body: noRv }))).toBe(422);
  });

  it('keeps an object with finalizers until they are removed, and refuses new ones while deleting', async () => {
    await custom.createClusterCustomObject({
      ...base,
      body: { ...body('f'), metadata: { name: 'f', finalizers: ['x/y'] } },
    });
    const marked = await custom.deleteClusterCustomObject({ ...base, name: 'f' });
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    const add = { metadata: { finalizers: ['x/y', 'x/z'] } };
    expect(await codeOf(custom.patchClusterCustomObject({ ...base, name: 'f', body: add }, merge))).toBe(422);
    await custom.patchClusterCustomObject(
      { ...base, name: 'f', body: { metadata: { finalizers: [] } } },
      merge,
    );
    expect(await codeOf(custom.getClusterCustomObject({ ...base, name: 'f' }))).toBe(404);
  });

  it('treats apply as a merge that creates, and requires a field manager', async () => {
    const applied = await custom.patchClusterCustomObject(
      { ...base, name: 'ap', body: body('ap'), fieldManager: 'me' },
      apply,
    );
    expect(applied.metadata.generation).toBe(1);
    expect(
      await codeOf(custom.patchClusterCustomObject({ ...base, name: 'ap', body: body('ap') }, apply)),
    ).toBe(422);
    const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    expect(await codeOf(custom.patchClusterCustomObject({ ...base, name: 'ap', body: {} }, strategic))).toBe(
      415,
    );
  });

  it('streams watch events from a resourceVersion, bookmarks, and 410 when history is gone', async () => {
    await custom.createClusterCustomObject({ ...base, body: body('w1') });
    const list = await custom.listClusterCustomObject(base);
    const from = list.metadata.resourceVersion;
    const seen: string[] = [];
    const watch = new Watch(cluster.kubeConfig());
    const ctrl = await watch.watch(
      '/apis/orchard.dev/v1alpha1/remotes',
      { resourceVersion: from, allowWatchBookmarks: true },
      (type, obj) => seen.push(`${type} ${obj.metadata?.name ?? ''}`),
      () => {},
    );
    await custom.createClusterCustomObject({ ...base, body: body('w2') });
    await custom.deleteClusterCustomObject({ ...base, name: 'w1' });
    await new Promise((r) => setTimeout(r, 150));
    ctrl.abort();
    expect(seen.slice(0, 2)).toEqual(['ADDED w2', 'DELETED w1']);
    expect(seen).toContain('BOOKMARK ');
    for (let i = 0; i < 6; i++) await custom.createClusterCustomObject({ ...base, body: body(`h${i}`) });
    const errors: { code?: number; reason?: string }[] = [];
    await new Promise<void>((resolve) => {
      void watch.watch(
        '/apis/orchard.dev/v1alpha1/remotes',
        { resourceVersion: from },
        (type, obj) => {
          if (type === 'ERROR') errors.push(obj);
        },
        () => resolve(),
      );
    });
    expect(errors).toEqual([expect.objectContaining({ code: 410, reason: 'Expired' })]);
  });

  it('serves ConfigMaps, Secrets (stringData folded into data) and Leases with MicroTime checking', async () => {
    const s = await core.createNamespacedSecret({
      namespace: 'ns1',
      body: { metadata: { name: 's' }, stringData: { token: 'abc' } },
    });
    expect(s.data).toEqual({ token: Buffer.from('abc').toString('base64') });
    await core.createNamespacedConfigMap({
      namespace: 'ns1',
      body: { metadata: { name: 'c', labels: { a: 'b' } }, data: { k: 'v' } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'ns2',
      body: { metadata: { name: 'c' }, data: { k: 'v' } },
    });
    expect(
      (await core.listNamespacedConfigMap({ namespace: 'ns1' })).items.map((c) => c.metadata?.name),
    ).toEqual(['c']);
    expect((await core.listNamespacedConfigMap({ namespace: 'ns2', labelSelector: 'a=b' })).items).toEqual(
      [],
    );
    const leases = cluster.kubeConfig().makeApiClient(CoordinationV1Api);
    const ok = await leases.createNamespacedLease({
      namespace: 'ns1',
      body: { metadata: { name: 'l' }, spec: { holderIdentity: 'me', renewTime: new V1MicroTime() } },
    });
    expect(ok.spec?.holderIdentity).toBe('me');
    const bad = leases.createNamespacedLease({
      namespace: 'ns1',
      body: { metadata: { name: 'l2' }, spec: { renewTime: new Date() as V1MicroTime } },
    });
    expect(await codeOf(bad)).toBe(400);
  });

  it('injects faults: 500s on the next requests', async () => {
    cluster.server.failNextRequests(2);
    expect(await codeOf(custom.listClusterCustomObject(base))).toBe(500);
    expect(await codeOf(custom.listClusterCustomObject(base))).toBe(500);
    expect(await codeOf(custom.listClusterCustomObject(base))).toBe(200);
  });
});
