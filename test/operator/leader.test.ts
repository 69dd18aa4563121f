/**
 * Two operators, one Lease: only the leader writes; failover on release
 * (SIGTERM path) and on a crashed leader; watch faults during operation;
 * /metrics, /healthz and /readyz.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeCluster, startFakeCluster } from '../fake-apiserver/index.ts';
import {
  condition,
  ns,
  ref,
  remote,
  renderedConfig,
  startOperator,
  type TestOperator,
  writesBy,
} from './harness.ts';
import { eventually, sleep } from './helpers.ts';

let cluster: FakeCluster;
const running: TestOperator[] = [];

afterEach(async () => {
  for (const t of running.splice(0)) await t.op.stop();
  await cluster.close();
});

async function start(identity: string, health = false) {
  const t = await startOperator(cluster, { identity, health });
  running.push(t);
  return t;
}

const lease = () =>
  cluster.objects.get({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    name: 'orchard-operator',
    namespace: ns,
  });
const holder = () => (lease()?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;

describe('leader election', () => {
  it('lets only the Lease holder write, and fails over when it releases the Lease', async () => {
    cluster = await startFakeCluster({ bookmarkIntervalMs: 500 });
    const a = await start('op-a');
    await eventually(() => expect(a.op.isLeader()).toBe(true));
    const b = await start('op-b');
    cluster.objects.create(remote('one'));
    await eventually(() => expect(renderedConfig(cluster)).toContain('name: one'));
    await sleep(600);
    expect(b.op.isLeader()).toBe(false);
    expect(writesBy(cluster, 'op-b')).toEqual([]);
    expect(writesBy(cluster, 'op-a').length).toBeGreaterThan(0);
    expect(lease()?.spec).toMatchObject({
      holderIdentity: 'op-a',
      leaseDurationSeconds: 2,
      leaseTransitions: 0,
    });
    expect(String((lease()?.spec as { renewTime?: string } | undefined)?.renewTime)).toMatch(/\.\d{6}Z$/);

    // Graceful stop (SIGTERM) releases the Lease: b takes over well before the lease would expire.
    await a.op.stop();
    const releasedAt = Date.now();
    running.splice(running.indexOf(a), 1);
    await eventually(() => expect(b.op.isLeader()).toBe(true), 3000);
    // Without the release, b would wait out the 2 s lease from its last observation.
    expect(Date.now() - releasedAt).toBeLessThan(1000);
    expect(lease()?.spec).toMatchObject({ holderIdentity: 'op-b', leaseTransitions: 1 });
    const aWrites = writesBy(cluster, 'op-a').length;
    cluster.objects.create(remote('two'));
    await eventually(() => expect(renderedConfig(cluster)).toContain('name: two'));
    await eventually(() =>
      expect(condition(cluster.objects.get(ref('Remote', 'two')), 'Ready')?.status).toBe('True'),
    );
    expect(writesBy(cluster, 'op-a').length).toBe(aWrites);
    expect(writesBy(cluster, 'op-b').length).toBeGreaterThan(0);
  });

  it('takes over from a crashed leader only after the lease expires', async () => {
    cluster = await startFakeCluster({ bookmarkIntervalMs: 500 });
    const a = await start('op-a');
    await eventually(() => expect(a.op.isLeader()).toBe(true));
    const b = await start('op-b');
    await sleep(300);
    const crashedAt = Date.now();
    await a.op.stop({ release: false });
    running.splice(running.indexOf(a), 1);
    expect(holder()).toBe('op-a');
    await sleep(800);
    expect(b.op.isLeader()).toBe(false); // the 1.5 s lease has not expired yet
    await eventually(() => expect(b.op.isLeader()).toBe(true), 4000);
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(1400);
    expect(holder()).toBe('op-b');
    cluster.objects.create(remote('after-crash'));
    await eventually(() => expect(renderedConfig(cluster)).toContain('name: after-crash'));
  });

  it('stops leading when it cannot renew, so two replicas never both write', async () => {
    cluster = await startFakeCluster({ bookmarkIntervalMs: 500 });
    const a = await start('op-a');
    await eventually(() => expect(a.op.isLeader()).toBe(true));
    const b = await start('op-b');
    // a is cut off from the API server for every Lease request; b keeps working.
    cluster.server.failNextRequests(1000, {
      match: (_m, path, token) => path.includes('/leases') && token === 'op-a',
    });
    await eventually(() => expect(a.op.isLeader()).toBe(false), 3000);
    expect(b.op.isLeader()).toBe(false); // a gave up (renewDeadline 1 s) before its lease (1.5 s) expired
    await eventually(() => expect(b.op.isLeader()).toBe(true), 4000);
    expect(a.op.isLeader()).toBe(false);
    cluster.objects.create(remote('after-partition'));
    await eventually(() => expect(renderedConfig(cluster)).toContain('name: after-partition'));
  });
});

describe('operator under watch faults', () => {
  it.each([
    ['410 Gone', (c: FakeCluster) => c.server.failNextWatchesWithGone(6)],
    ['dropped streams', (c: FakeCluster) => c.server.dropWatches()],
    ['stalled streams', (c: FakeCluster) => c.server.stallWatches()],
  ])('renders a change made during %s', async (_name, inject) => {
    cluster = await startFakeCluster({ bookmarkIntervalMs: 200 });
    const a = await start('op-a');
    await eventually(() => expect(a.op.ready()).toBe(true));
    inject(cluster);
    if (_name === '410 Gone') cluster.server.dropWatches();
    cluster.objects.create(remote('during-fault'));
    await eventually(() => expect(renderedConfig(cluster)).toContain('name: during-fault'), 10_000);
  });
});

describe('health and metrics', () => {
  it('serves /healthz, /readyz and /metrics with the operator metrics', async () => {
    cluster = await startFakeCluster({ bookmarkIntervalMs: 500 });
    const a = await start('op-a', true);
    const base = `http://127.0.0.1:${a.op.healthPort()}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await eventually(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200));
    cluster.objects.create(remote('m'));
    await eventually(() => expect(renderedConfig(cluster)).toContain('name: m'));
    cluster.server.dropWatches();
    await eventually(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/orchard_operator_reconcile_total\{kind="Remote",result="success"\} \d+/);
      expect(text).toMatch(/orchard_operator_reconcile_duration_seconds_bucket\{le="[^"]+",kind="Config"\}/);
      expect(text).toContain('orchard_operator_queue_depth');
      expect(text).toMatch(/orchard_operator_watch_restarts_total\{kind="Remote",reason="error"\} \d+/);
      expect(text).toMatch(/orchard_operator_leader 1/);
    });
  });
});
