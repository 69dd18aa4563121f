/** What the reconcile functions share: caches, clients, settings and the last published evaluation. */
import type { Logger } from '../../../proxy/src/http/logger.ts';
import type { EventRecorder } from '../events.ts';
import type { ProxyApi } from '../feedback/proxy-api.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/resources.ts';
import type { OperatorMetrics } from '../metrics.ts';
import type { DesiredCondition } from './conditions.ts';
import type { Evaluation } from './evaluate.ts';
import type { MirrorEndpoint } from './hosts-toml.ts';

export const finalizer = 'orchard.dev/finalizer';

/** Names of the objects the operator writes in its namespace. */
export interface OutputNames {
  /** ConfigMap with `config.yaml` (the normalized config). */
  config: string;
  /** Secret with `credentials.yaml`. */
  credentials: string;
  /** ConfigMap with one `<host>_hosts.toml` per mirrored registry. */
  hosts: string;
}

export const defaultOutputNames: OutputNames = {
  config: 'orchard-config',
  credentials: 'orchard-credentials',
  hosts: 'orchard-containerd-hosts',
};

/** Labels on every object the operator creates. Never ArgoCD's tracking label or annotation. */
export const outputLabels: Record<string, string> = {
  'app.kubernetes.io/name': 'orchard',
  'app.kubernetes.io/component': 'proxy-config',
  'app.kubernetes.io/managed-by': 'orchard-operator',
};

export interface Caches {
  /** By kind name (Remote, VirtualRepository, Project, Package). */
  list(kind: string): KubeObject[];
  get(kind: string, name: string): KubeObject | undefined;
  secret(namespace: string, name: string): KubeObject | undefined;
  output(kind: 'ConfigMap' | 'Secret', name: string): KubeObject | undefined;
}

export interface ReconcileContext {
  client: KubeClient;
  caches: Caches;
  logger: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
  namespace: string;
  secretNamespaces: string[];
  outputs: OutputNames;
  mirror: MirrorEndpoint;
  proxy: ProxyApi | undefined;
  statsIntervalMs: number;
  now(): number;
  /** The evaluation whose config was last written successfully (undefined before the first). */
  published: Evaluation | undefined;
  enqueue(key: string): void;
  /** Last proxy feedback per queue key, so a burst of reconciles does not poll the proxy each time. */
  feedback: Map<string, { at: number; fields: Record<string, unknown>; condition: DesiredCondition }>;
  /**
   * uids whose deletion step is done (data deleted or retained, finalizer released), so a reconcile
   * on a cache that has not yet seen the object go does not delete the data again.
   */
  finalized: Set<string>;
}
