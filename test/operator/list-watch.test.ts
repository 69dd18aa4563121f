/**
 * ListWatch against the fake API server through the real client-node code:
 * every recovery path (410, dropped stream, silent stall, 5xx, periodic
 * relist) ends with the cache holding every change made meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient } from '../../operator/src/kube/client.ts';
import { RemoteKind } from '../../operator/src/kube/resources.ts';
import { ListWatch, type RestartReason } from '../../operator/src/watch/list-watch.ts';
import { silentLogger } from '../../proxy/src/http/logger.ts';
import { type FakeCluster, startFakeCluster } from '../fake-apiserver/index.ts';
import { eventually } from './helpers.ts';

const remote = (name: string, baseUrl = 'http://127.0.0.1:1/x') => ({
  apiVersion: 'orchard.dev/v1alpha1',
  kind: 'Remote',
  metadata: { name },
  spec: { type: 'remote', package: 'generic', baseUrl },
});
const ref = (name: string) => ({ apiVersion: 'orchard.dev/v1alpha1', kind: 'Remote', name });

let cluster: FakeCluster;
let lw: ListWatch | undefined;

afterEach(async () => {
  await lw?.stop();
  lw = undefined;
  await cluster?.close();
});

async function startWatch(
  opts: { watchdogMs?: number; relistIntervalMs?: number; maxHistory?: number } = {},
) {
  cluster = await startFakeCluster({ bookmarkIntervalMs: 100, maxHistory: opts.maxHistory });
  const events: string[] = [];
  const restarts: RestartReason[] = [];
  lw = new ListWatch({
    client: createKubeClient(cluster.kubeConfig()),
    kind: RemoteKind,
    logger: silentLogger,
    onEvent: (type, o) => events.push(`${type} ${o.metadata.name}`),
    onRestart: (r) => restarts.push(r),
    watchdogMs: opts.watchdogMs ?? 2000,
    relistIntervalMs: opts.relistIntervalMs ?? 600_000,
    backoffBaseMs: 20,
    backoffMaxMs: 200,
  });
  return { events, restarts, lw };
}

const names = (w: ListWatch) =>
  w
    .list()
    .map((o) => o.metadata.name)
    .sort();
const baseUrlOf = (w: ListWatch, name: string) =>
  (w.get(name)?.spec as { baseUrl?: string } | undefined)?.baseUrl;

describe('ListWatch', () => {
  it('lists, then follows creates, updates and deletes', async () => {
    const { events, lw } = await startWatch();
    cluster.objects.create(remote('a'));
    lw.start();
    await eventually(() => expect(lw.synced()).toBe(true));
    cluster.objects.create(remote('b'));
    cluster.objects.apply(remote('a', 'http://127.0.0.1:1/changed'));
    cluster.objects.delete(ref('b'));
    await eventually(() => expect(events).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b']));
    expect(baseUrlOf(lw, 'a')).toBe('http://127.0.0.1:1/changed');
  });

  it('relists after 410 Gone and reports the changes it had missed', async () => {
    const { restarts, lw } = await startWatch({ maxHistory: 2 });
    cluster.objects.create(remote('a'));
    cluster.objects.create(remote('gone-soon'));
    lw.start();
    await eventually(() => expect(cluster.server.liveWatchCount('remotes')).toBe(1));
    cluster.server.stallWatches();
    // While the stream is stalled, enough changes happen to fall out of history.
    cluster.objects.create(remote('b'));
    cluster.objects.apply(remote('a', 'http://127.0.0.1:1/v2'));
    cluster.objects.delete(ref('gone-soon'));
    cluster.objects.create(remote('c'));
    await eventually(() => expect(names(lw)).toEqual(['a', 'b', 'c']), 10_000);
    expect(baseUrlOf(lw, 'a')).toBe('http://127.0.0.1:1/v2');
    expect(restarts).toContain('stall');
    expect(restarts).toContain('gone');
  });

  it('relists when the server answers the watch with a 410 ERROR event', async () => {
    const { restarts, lw } = await startWatch();
    cluster.server.failNextWatchesWithGone(1);
    lw.start();
    await eventually(() => expect(restarts).toContain('gone'));
    cluster.objects.create(remote('after-gone'));
    await eventually(() => expect(names(lw)).toEqual(['after-gone']));
  });

  it('reconnects after a dropped connection without missing a change', async () => {
    const { restarts, lw } = await startWatch();
    lw.start();
    await eventually(() => expect(cluster.server.liveWatchCount('remotes')).toBe(1));
    cluster.server.dropWatches();
    cluster.objects.create(remote('while-dropped'));
    await eventually(() => expect(names(lw)).toEqual(['while-dropped']));
    expect(restarts).toContain('error');
  });

  it('restarts a silently stalled stream (watchdog) and catches up', async () => {
    const { restarts, lw } = await startWatch({ watchdogMs: 500 });
    lw.start();
    await eventually(() => expect(cluster.server.liveWatchCount('remotes')).toBe(1));
    cluster.server.stallWatches();
    cluster.objects.create(remote('during-stall'));
    await eventually(() => expect(names(lw)).toEqual(['during-stall']), 5000);
    expect(restarts).toContain('stall');
    expect(restarts).not.toContain('gone');
  });

  it('keeps a healthy idle watch open: bookmarks feed the watchdog', async () => {
    const { restarts, lw } = await startWatch({ watchdogMs: 1000 });
    lw.start();
    await eventually(() => expect(cluster.server.liveWatchCount('remotes')).toBe(1));
    const watchesBefore = cluster.server.requests.filter((r) => r.watch).length;
    await new Promise((r) => setTimeout(r, 2500));
    // Bookmarks every 100 ms keep the 1 s watchdog quiet: same stream, no restart.
    expect(restarts).toEqual([]);
    expect(cluster.server.requests.filter((r) => r.watch).length).toBe(watchesBefore);
    expect(lw.lastResourceVersion()).toBe(cluster.server.store.currentResourceVersion());
  });

  it('retries the list with backoff through 500s', async () => {
    const { restarts, lw } = await startWatch();
    cluster.objects.create(remote('a'));
    cluster.server.failNextRequests(3, { match: (m) => m === 'GET' });
    lw.start();
    await eventually(() => expect(names(lw)).toEqual(['a']));
    expect(restarts.filter((r) => r === 'list_error').length).toBeGreaterThanOrEqual(1);
  });

  it('relists periodically', async () => {
    const { restarts, lw } = await startWatch({ relistIntervalMs: 300 });
    lw.start();
    await eventually(() => expect(restarts.filter((r) => r === 'relist').length).toBeGreaterThanOrEqual(2));
    // The first list, then one per relist (the restart is counted just before its list is sent).
    const lists = () =>
      cluster.server.requests.filter((r) => r.method === 'GET' && !r.watch && r.path.endsWith('/remotes'));
    await eventually(() => expect(lists().length).toBeGreaterThanOrEqual(3));
  });
});
