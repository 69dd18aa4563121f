/**
 * The operator assembled from its parts: client-node client, controller
 * (watch caches + work queue), leader election, events, metrics and the
 * health endpoint. main.ts builds one from the environment; tests build
 * several in one process against the fake API server.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../../proxy/src/http/logger.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { createEventRecorder } from './events.ts';
import { createProxyApi } from './feedback/proxy-api.ts';
import { type HealthServer, startHealthServer } from './health.ts';
import { createKubeClient } from './kube/client.ts';
import { LeaderElector } from './leader/lease.ts';
import { createOperatorMetrics } from './metrics.ts';
import type { MirrorEndpoint } from './reconcile/hosts-toml.ts';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** The operator's namespace (rendered objects, Lease, Events, default Secret namespace). */
  namespace: string;
  /** This replica's identity in the Lease (the pod name). */
  identity: string;
  logger: Logger;
  registry: Registry;
  /** Base URL of the proxy API, for status feedback and deletionPolicy Delete. */
  proxyUrl?: string;
  /** The proxy address containerd on the nodes uses as a mirror. */
  mirror: MirrorEndpoint;
  extraSecretNamespaces?: string[];
  /** Serve /metrics, /healthz, /readyz; omit for none. */
  health?: { host?: string; port: number };
  lease?: { name?: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  tuning?: Pick<
    ControllerOptions,
    'statsIntervalMs' | 'watchdogMs' | 'relistIntervalMs' | 'queue' | 'outputs'
  >;
}

export interface Operator {
  start(): Promise<void>;
  /**
   * Stop leading, stop watching, close the health endpoint. The Lease is
   * released unless `release: false` (which simulates a crashed replica).
   */
  stop(opts?: { release?: boolean }): Promise<void>;
  isLeader(): boolean;
  ready(): boolean;
  /** The health endpoint's port (0 when not served). */
  healthPort(): number;
}

export function createOperator(o: OperatorOptions): Operator {
  const client = createKubeClient(o.kubeConfig);
  const metrics = createOperatorMetrics(o.registry);
  const logger = o.logger.child({ component: 'operator', identity: o.identity });
  const controller = new Controller({
    client,
    logger,
    metrics,
    events: createEventRecorder({ client, namespace: o.namespace, instance: o.identity, logger }),
    namespace: o.namespace,
    extraSecretNamespaces: o.extraSecretNamespaces,
    mirror: o.mirror,
    proxy: o.proxyUrl ? createProxyApi({ baseUrl: o.proxyUrl }) : undefined,
    ...o.tuning,
  });
  const elector = new LeaderElector({
    client,
    namespace: o.namespace,
    name: o.lease?.name ?? 'orchard-operator',
    identity: o.identity,
    logger,
    leaseDurationMs: o.lease?.leaseDurationMs,
    renewDeadlineMs: o.lease?.renewDeadlineMs,
    retryPeriodMs: o.lease?.retryPeriodMs,
    onStartedLeading: () => {
      metrics.isLeader.set(1);
      void controller.resume();
    },
    onStoppedLeading: async () => {
      metrics.isLeader.set(0);
      await controller.pause();
    },
  });
  let health: HealthServer | undefined;
  return {
    async start() {
      if (o.health) {
        health = await startHealthServer({
          ...o.health,
          registry: o.registry,
          ready: () => ({
            ok: controller.synced(),
            detail: { synced: controller.synced(), leader: elector.isLeader() },
          }),
        });
      }
      controller.start();
      elector.start();
    },
    async stop(opts = {}) {
      await elector.stop({ release: opts.release !== false });
      await controller.stop();
      await health?.close();
    },
    isLeader: () => elector.isLeader(),
    ready: () => controller.synced(),
    healthPort: () => health?.port ?? 0,
  };
}
