/**
 * Deletion with each deletionPolicy (finalizer released only after the
 * config no longer declares the resource, and for Delete only after the
 * proxy deleted the data), and status feedback polled from the proxy API.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeCluster, startFakeCluster } from '../fake-apiserver/index.ts';
import {
  assertStatusMatchesCrd,
  condition,
  type FakeProxyApi,
  ns,
  pkg,
  project,
  ref,
  remote,
  renderedConfig,
  startFakeProxyApi,
  startOperator,
  type TestOperator,
} from './harness.ts';
import { eventually, sleep } from './helpers.ts';

let cluster: FakeCluster;
let proxy: FakeProxyApi;
let t: TestOperator;

beforeEach(async () => {
  cluster = await startFakeCluster({ bookmarkIntervalMs: 500 });
  proxy = await startFakeProxyApi();
  t = await startOperator(cluster, { proxyUrl: proxy.url, statsIntervalMs: 200 });
});
afterEach(async () => {
  await t.op.stop();
  await cluster.close();
  await proxy.close();
});

const get = (kind: string, name: string) => cluster.objects.get(ref(kind, name));
const deletes = () => proxy.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
const eventReasons = () =>
  cluster.objects.list('v1', 'Event', ns).map((e) => (e as { reason?: string }).reason);

async function readyPackage(name: string, spec: Record<string, unknown>) {
  cluster.objects.apply(project('team'));
  cluster.objects.create(pkg(name, 'team', spec));
  await eventually(() => expect(condition(get('Package', name), 'Ready')?.status).toBe('True'));
  expect(get('Package', name)?.metadata.finalizers).toContain('orchard.dev/finalizer');
}

describe('deletion', () => {
  it('Retain (the default): stops declaring the package, keeps its data, releases the finalizer', async () => {
    await readyPackage('keep-me', {});
    cluster.objects.delete(ref('Package', 'keep-me'));
    await eventually(() => expect(get('Package', 'keep-me')).toBeUndefined());
    expect(renderedConfig(cluster)).not.toContain('keep-me');
    expect(deletes()).toEqual([]);
    await eventually(() => expect(eventReasons()).toContain('DataRetained'));
  });

  it('Delete: deletes the data through the proxy API before releasing the finalizer', async () => {
    await readyPackage('drop-me', { deletionPolicy: 'Delete', name: 'tool' });
    proxy.respond.set('DELETE /api/v1/project/team/packages/tool', { status: 204 });
    cluster.objects.delete(ref('Package', 'drop-me'));
    await eventually(() => expect(get('Package', 'drop-me')).toBeUndefined());
    expect(deletes()).toEqual(['/api/v1/project/team/packages/tool']);
    expect(renderedConfig(cluster)).not.toContain('drop-me');
    await eventually(() => expect(eventReasons()).toContain('DataDeleted'));
  });

  it('Delete: a failing proxy is reported in a condition and an Event, and retried until it succeeds', async () => {
    await readyPackage('stubborn', { deletionPolicy: 'Delete' });
    proxy.respond.set('DELETE /api/v1/project/team/packages/stubborn', { status: 503 });
    cluster.objects.delete(ref('Package', 'stubborn'));
    await eventually(() =>
      expect(condition(get('Package', 'stubborn'), 'DataDeleted')).toMatchObject({
        status: 'False',
        reason: 'DeleteFailed',
      }),
    );
    expect(condition(get('Package', 'stubborn'), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Deleting',
    });
    await eventually(() => expect(deletes().length).toBeGreaterThanOrEqual(2));
    expect(get('Package', 'stubborn')?.metadata.deletionTimestamp).toBeDefined();
    expect(eventReasons()).toContain('DeleteFailed');
    proxy.respond.set('DELETE /api/v1/project/team/packages/stubborn', { status: 204 });
    await eventually(() => expect(get('Package', 'stubborn')).toBeUndefined(), 10_000);
  });

  it('Project with Delete removes the project through the proxy; Retain leaves it', async () => {
    cluster.objects.create(project('gone', { deletionPolicy: 'Delete' }));
    cluster.objects.create(project('kept'));
    await eventually(() => expect(condition(get('Project', 'gone'), 'Ready')?.status).toBe('True'));
    await eventually(() => expect(get('Project', 'kept')?.metadata.finalizers).toBeDefined());
    proxy.respond.set('DELETE /api/v1/projects/gone', { status: 204 });
    cluster.objects.delete(ref('Project', 'gone'));
    cluster.objects.delete(ref('Project', 'kept'));
    await eventually(() =>
      expect([get('Project', 'gone'), get('Project', 'kept')]).toEqual([undefined, undefined]),
    );
    expect(deletes()).toEqual(['/api/v1/projects/gone']);
  });
});

describe('status feedback', () => {
  it('shows package counts and remote cache stats from the proxy, and updates them', async () => {
    proxy.respond.set('GET /api/v1/project/team/packages/app', {
      status: 200,
      body: {
        tag_count: 3,
        artifact_count: 5,
        total_size: 4096,
        latest_tag: 'v1.2.0',
        latest_upload_at: '2026-03-04T05:06:07.890Z',
      },
    });
    proxy.respond.set('GET /api/v1/remotes/files/stats', {
      status: 200,
      body: {
        cached_objects: 7,
        cached_bytes: 123456,
        last_upstream_error: 'HTTP 502 from upstream',
        last_upstream_error_at: '2026-03-04T05:06:07.890Z',
        upstream_healthy: false,
      },
    });
    cluster.objects.create(project('team'));
    cluster.objects.create(pkg('app', 'team'));
    cluster.objects.create(remote('files'));
    await eventually(() =>
      expect(get('Package', 'app')?.status).toMatchObject({
        tagCount: 3,
        artifactCount: 5,
        totalSize: 4096,
        latestTag: 'v1.2.0',
      }),
    );
    await eventually(() =>
      expect(get('Remote', 'files')?.status).toMatchObject({
        cachedObjects: 7,
        cachedBytes: 123456,
        lastUpstreamError: 'HTTP 502 from upstream',
        lastUpstreamErrorTime: '2026-03-04T05:06:07Z',
        upstreamHealthy: false,
      }),
    );
    expect(condition(get('Remote', 'files'), 'StatsAvailable')?.status).toBe('True');
    assertStatusMatchesCrd(get('Remote', 'files'));
    assertStatusMatchesCrd(get('Package', 'app'));
    await eventually(() => expect(get('Project', 'team')?.status).toMatchObject({ packageCount: 1 }));
    assertStatusMatchesCrd(get('Project', 'team'));
    proxy.respond.set('GET /api/v1/remotes/files/stats', {
      status: 200,
      body: { cached_objects: 8, cached_bytes: 200000, upstream_healthy: true },
    });
    await eventually(() =>
      expect(get('Remote', 'files')?.status).toMatchObject({ cachedObjects: 8, upstreamHealthy: true }),
    );
    expect(get('Remote', 'files')?.status).not.toHaveProperty('lastUpstreamError');
  });

  it('tolerates a proxy without the stats endpoint: a condition, not a failure', async () => {
    proxy.respond.set('GET /api/v1/remotes/quiet/stats', { status: 404, body: undefined });
    cluster.objects.create(remote('quiet'));
    await eventually(() =>
      expect(condition(get('Remote', 'quiet'), 'StatsAvailable')).toMatchObject({
        status: 'False',
        reason: 'StatsNotServed',
      }),
    );
    expect(condition(get('Remote', 'quiet'), 'Ready')?.status).toBe('True');
    await proxy.close();
    await sleep(500);
    expect(condition(get('Remote', 'quiet'), 'StatsAvailable')?.reason).toBe('ProxyUnreachable');
    expect(condition(get('Remote', 'quiet'), 'Ready')?.status).toBe('True');
  });
});
