/**
 * ListWatch: a cache of one resource kind kept current by list-then-watch,
 * written for the failure modes the stock informer handles badly
 * (kubernetes-client/javascript#596, #958: informers that go quiet).
 *
 * - List, remember the list's resourceVersion, watch from it (with
 *   allowWatchBookmarks) and move the resourceVersion along with every event
 *   and bookmark.
 * - 410 Gone (an ERROR event with code 410, or HTTP 410): relist.
 * - Stream ends cleanly (server timeoutSeconds): watch again from the last
 *   resourceVersion, at once.
 * - Stream fails (dropped connection, 5xx): watch again after a backoff.
 * - Silent stall: nothing (no event, no bookmark) for `watchdogMs`: abort
 *   and watch again.
 * - Every `relistIntervalMs`: relist, to repair anything a bug or a lossy
 *   proxy in between could have lost.
 *
 * A relist diffs the new list against the cache and reports ADDED,
 * MODIFIED (resourceVersion changed) and DELETED, so a change is never missed
 * across a restart. `onEvent` is called synchronously after the cache is
 * updated; it must not throw. Reading the cache is safe at any time.
 */
import type { Logger } from '../../../proxy/src/http/logger.ts';
import type { KubeClient } from '../kube/client.ts';
import { describeError, httpStatusOf } from '../kube/errors.ts';
import type { KubeObject, ResourceKind } from '../kube/resources.ts';
import { withDefaults } from '../util/defaults.ts';

export type RestartReason = 'gone' | 'stall' | 'error' | 'closed' | 'relist' | 'list_error';
export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ListWatchOptions {
  client: KubeClient;
  kind: ResourceKind;
  namespace?: string;
  labelSelector?: string;
  logger: Logger;
  onEvent(type: CacheEventType, obj: KubeObject): void;
  onRestart?(reason: RestartReason): void;
  watchdogMs?: number;
  relistIntervalMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export class ListWatch {
  private readonly cache = new Map<string, KubeObject>();
  private readonly o: Required<Omit<ListWatchOptions, 'namespace' | 'labelSelector' | 'onRestart'>> &
    ListWatchOptions;
  private resourceVersion = '';
  private hasSynced = false;
  private running = false;
  private loop: Promise<void> | undefined;
  private current: { abort(): void } | undefined;
  private wake: ((reason: RestartReason | 'stop') => void) | undefined;
  private failures = 0;

  constructor(opts: ListWatchOptions) {
    this.o = withDefaults(
      { watchdogMs: 180_000, relistIntervalMs: 600_000, backoffBaseMs: 250, backoffMaxMs: 30_000 },
      opts,
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.current?.abort();
    this.wake?.('stop');
    await this.loop;
  }

  /** True once the first list has filled the cache. */
  synced(): boolean {
    return this.hasSynced;
  }

  list(): KubeObject[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace?: string): KubeObject | undefined {
    return this.cache.get(cacheKey(name, namespace));
  }

  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.relist();
      } catch (err) {
        this.o.logger.warn('list failed', { kind: this.o.kind.kind, error: describeError(err) });
        this.o.onRestart?.('list_error');
        await this.sleep(this.backoff());
        continue;
      }
      const relistAt = Date.now() + this.o.relistIntervalMs;
      while (this.running) {
        const remaining = relistAt - Date.now();
        const startedAt = Date.now();
        const reason = remaining <= 0 ? 'relist' : await this.watchOnce(remaining);
        if (reason === 'stop') return;
        this.o.onRestart?.(reason);
        if (reason === 'gone' || reason === 'relist') break;
        // A stream the server closes at once, again and again, must not become a busy loop.
        const quickClose = reason === 'closed' && Date.now() - startedAt < 1000;
        if (reason === 'error' || reason === 'stall' || quickClose) await this.sleep(this.backoff());
      }
    }
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.o.client.list(this.o.kind, {
      namespace: this.o.namespace,
      labelSelector: this.o.labelSelector,
    });
    const seen = new Set<string>();
    for (const item of items) {
      const key = cacheKey(item.metadata.name, item.metadata.namespace);
      seen.add(key);
      const old = this.cache.get(key);
      if (old?.metadata.resourceVersion === item.metadata.resourceVersion) continue;
      this.cache.set(key, item);
      this.o.onEvent(old ? 'MODIFIED' : 'ADDED', item);
    }
    for (const [key, old] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.o.onEvent('DELETED', old);
    }
    this.resourceVersion = resourceVersion;
    this.hasSynced = true;
  }

  /** One watch stream; resolves with why it ended. */
  private watchOnce(maxMs: number): Promise<RestartReason | 'stop'> {
    return new Promise((resolve) => {
      let settled = false;
      let watchdog: NodeJS.Timeout | undefined;
      const finish = (reason: RestartReason | 'stop') => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        clearTimeout(relistTimer);
        this.wake = undefined;
        this.current?.abort();
        this.current = undefined;
        resolve(reason);
      };
      const pet = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          this.o.logger.warn('watch stalled; restarting', {
            kind: this.o.kind.kind,
            silentMs: this.o.watchdogMs,
          });
          finish('stall');
        }, this.o.watchdogMs);
      };
      const relistTimer = setTimeout(() => finish('relist'), maxMs);
      this.wake = finish;
      pet();
      // Ask the server to end the stream itself after 5-10 minutes, as client-go does,
      // so that no stream lives forever through proxies and load balancers.
      const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
      this.o.client
        .watch(
          this.o.kind,
          {
            namespace: this.o.namespace,
            labelSelector: this.o.labelSelector,
            resourceVersion: this.resourceVersion,
            timeoutSeconds,
            inactivityTimeoutMs: this.o.watchdogMs + 30_000,
          },
          {
            onEvent: (type, obj) => {
              if (settled) return;
              pet();
              if (type === 'ERROR') {
                const code = (obj as unknown as { code?: number }).code;
                if (code === 410) finish('gone');
                else finish('error');
                return;
              }
              this.failures = 0;
              this.apply(type, obj);
            },
            onDone: (err) => {
              if (settled) return;
              if (err === null) finish('closed');
              else if (httpStatusOf(err) === 410) finish('gone');
              else {
                this.o.logger.warn('watch failed', { kind: this.o.kind.kind, error: describeError(err) });
                finish('error');
              }
            },
          },
        )
        .then((handle) => {
          if (settled) handle.abort();
          else this.current = handle;
        })
        .catch((err) => {
          this.o.logger.warn('watch request failed', { kind: this.o.kind.kind, error: describeError(err) });
          finish('error');
        });
    });
  }

  private apply(type: string, obj: KubeObject): void {
    const rv = obj.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
    const key = cacheKey(obj.metadata.name, obj.metadata.namespace);
    if (type === 'DELETED') this.cache.delete(key);
    else this.cache.set(key, obj);
    if (rv) this.resourceVersion = rv;
    this.o.onEvent(type, obj);
  }

  private backoff(): number {
    this.failures += 1;
    const ms = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** (this.failures - 1));
    return ms / 2 + Math.random() * (ms / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }
}

function cacheKey(name: string, namespace?: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
