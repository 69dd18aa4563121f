/**
 * The controller: watch caches feeding one keyed work queue.
 *
 * Keys are `Kind/name` for the four Orchard kinds and `config` for the
 * rendered proxy config. A spec change (new generation), creation, deletion
 * or deletion mark of a resource queues its key and `config`; a change of a
 * watched Secret or of an operator-written object queues `config`.
 *
 * Watches run on every replica (a follower's caches stay warm for a fast
 * failover); the queue runs only while `resume()`d, i.e. while leading, and
 * only after every cache has synced.
 */
import type { Logger } from '../../proxy/src/http/logger.ts';
import type { EventRecorder } from './events.ts';
import type { ProxyApi } from './feedback/proxy-api.ts';
import type { KubeClient } from './kube/client.ts';
import { describeError } from './kube/errors.ts';
import { ConfigMapKind, isDeleting, type KubeObject, orchardKinds, SecretKind } from './kube/resources.ts';
import type { OperatorMetrics } from './metrics.ts';
import { WorkQueue } from './queue/work-queue.ts';
import { configKey, reconcileConfig } from './reconcile/config.ts';
import {
  type Caches,
  defaultOutputNames,
  type OutputNames,
  type ReconcileContext,
} from './reconcile/context.ts';
import type { MirrorEndpoint } from './reconcile/hosts-toml.ts';
import { reconcileResource } from './reconcile/resource.ts';
import { ListWatch } from './watch/list-watch.ts';

export interface ControllerOptions {
  client: KubeClient;
  logger: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
  /** The operator's namespace: rendered objects and the default namespace of Secret references. */
  namespace: string;
  /** Further namespaces whose Secrets Remotes may reference (each needs a Role granting read). */
  extraSecretNamespaces?: string[];
  outputs?: OutputNames;
  mirror: MirrorEndpoint;
  proxy?: ProxyApi;
  statsIntervalMs?: number;
  watchdogMs?: number;
  relistIntervalMs?: number;
  queue?: { concurrency?: number; baseDelayMs?: number; maxDelayMs?: number };
}

export class Controller {
  private readonly watches = new Map<string, ListWatch>();
  private readonly secretWatches = new Map<string, ListWatch>();
  private readonly outputWatches = new Map<string, ListWatch>();
  private readonly seen = new Map<string, { generation?: number; deleting: boolean }>();
  private readonly queue: WorkQueue;
  private readonly ctx: ReconcileContext;
  private leading = false;

  constructor(o: ControllerOptions) {
    const secretNamespaces = [
      o.namespace,
      ...(o.extraSecretNamespaces ?? []).filter((n) => n !== o.namespace),
    ];
    const watchOpts = (kind: string) => ({
      client: o.client,
      logger: o.logger,
      watchdogMs: o.watchdogMs,
      relistIntervalMs: o.relistIntervalMs,
      onRestart: (reason: string) => o.metrics.watchRestarts.inc({ kind, reason }),
    });
    for (const kind of orchardKinds) {
      this.watches.set(
        kind.kind,
        new ListWatch({
          ...watchOpts(kind.kind),
          kind,
          onEvent: (t, obj) => this.onResourceEvent(kind.kind, t, obj),
        }),
      );
    }
    for (const ns of secretNamespaces) {
      this.secretWatches.set(
        ns,
        new ListWatch({
          ...watchOpts('Secret'),
          kind: SecretKind,
          namespace: ns,
          onEvent: () => this.queue.add(configKey),
        }),
      );
    }
    const managed = 'app.kubernetes.io/managed-by=orchard-operator';
    this.outputWatches.set(
      'ConfigMap',
      new ListWatch({
        ...watchOpts('ConfigMap'),
        kind: ConfigMapKind,
        namespace: o.namespace,
        labelSelector: managed,
        onEvent: () => this.queue.add(configKey),
      }),
    );
    this.queue = new WorkQueue({
      process: (key) => this.process(key),
      concurrency: o.queue?.concurrency ?? 4,
      baseDelayMs: o.queue?.baseDelayMs,
      maxDelayMs: o.queue?.maxDelayMs,
      onDepthChange: (d) => o.metrics.queueDepth.set(d),
      onResult: (key, outcome, err) => {
        o.metrics.reconcileTotal.inc({ kind: kindOfKey(key), result: outcome });
        if (outcome === 'error')
          o.logger.warn('reconcile failed; will retry', { key, error: describeError(err) });
        if (outcome === 'terminal')
          o.logger.info('resource is invalid', { key, detail: (err as Error).message });
      },
    });
    const caches: Caches = {
      list: (kind) => this.watches.get(kind)?.list() ?? [],
      get: (kind, name) => this.watches.get(kind)?.get(name),
      secret: (ns, name) => this.secretWatches.get(ns)?.get(name, ns),
      output: (kind, name) =>
        kind === 'Secret'
          ? this.secretWatches.get(o.namespace)?.get(name, o.namespace)
          : this.outputWatches.get(kind)?.get(name, o.namespace),
    };
    this.ctx = {
      client: o.client,
      caches,
      logger: o.logger,
      metrics: o.metrics,
      events: o.events,
      namespace: o.namespace,
      secretNamespaces,
      outputs: o.outputs ?? defaultOutputNames,
      mirror: o.mirror,
      proxy: o.proxy,
      statsIntervalMs: o.statsIntervalMs ?? 60_000,
      now: Date.now,
      published: undefined,
      enqueue: (key) => this.queue.add(key),
      feedback: new Map(),
      finalized: new Set(),
    };
  }

  /** Start the watches (every replica). */
  start(): void {
    for (const w of this.allWatches()) w.start();
  }

  synced(): boolean {
    return this.allWatches().every((w) => w.synced());
  }

  /** Begin reconciling (on becoming leader), once every cache has synced. */
  async resume(): Promise<void> {
    this.leading = true;
    while (this.leading && !this.synced()) await new Promise((r) => setTimeout(r, 50));
    if (!this.leading) return;
    // A new leader trusts nothing it published before.
    this.ctx.published = undefined;
    this.queue.add(configKey);
    this.queue.resume();
  }

  /** Stop reconciling (on losing leadership); resolves when in-flight reconciles have ended. */
  async pause(): Promise<void> {
    this.leading = false;
    await this.queue.pause();
  }

  async stop(): Promise<void> {
    this.leading = false;
    await this.queue.stop();
    await Promise.all(this.allWatches().map((w) => w.stop()));
  }

  private allWatches(): ListWatch[] {
    return [...this.watches.values(), ...this.secretWatches.values(), ...this.outputWatches.values()];
  }

  private onResourceEvent(kind: string, type: string, obj: KubeObject): void {
    const key = `${kind}/${obj.metadata.name}`;
    const prev = this.seen.get(key);
    const now = { generation: obj.metadata.generation, deleting: isDeleting(obj) };
    if (type === 'DELETED') this.seen.delete(key);
    else this.seen.set(key, now);
    this.queue.add(key);
    const specChanged = !prev || prev.generation !== now.generation || prev.deleting !== now.deleting;
    if (type !== 'MODIFIED' || specChanged) this.queue.add(configKey);
  }

  private async process(key: string) {
    const end = this.ctx.metrics.reconcileDuration.startTimer({ kind: kindOfKey(key) });
    try {
      if (key === configKey) return await reconcileConfig(this.ctx);
      const [kind, name] = key.split('/');
      return await reconcileResource(this.ctx, kind, name);
    } finally {
      end();
    }
  }
}

function kindOfKey(key: string): string {
  return key === configKey ? 'Config' : key.split('/')[0];
}
