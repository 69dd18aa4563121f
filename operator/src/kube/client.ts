/**
 * KubeClient: the handful of API calls the operator makes, on plain JSON
 * objects, over @kubernetes/client-node (typed APIs for REST, `Watch` for
 * streams). One place maps resource kinds to client-node's API classes.
 *
 * Contract, for every method: errors are client-node's ApiException (HTTP
 * status in `.code`; classify with kube/errors.ts). `get` answers undefined
 * on 404. Writes carry the stable field manager `orchard-operator`. `replace`
 * and the `precondition` of `mergePatch` send metadata.resourceVersion, so a
 * concurrent change answers 409 instead of being overwritten. All methods are
 * safe to call concurrently.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { isNotFound } from './errors.ts';
import { collectionPath, type KubeObject, type ResourceKind } from './resources.ts';

export const fieldManager = 'orchard-operator';

export interface WatchHandlers {
  onEvent(type: string, object: KubeObject): void;
  /** Called once when the stream ends: err null for a clean server-side close. */
  onDone(err: unknown): void;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  resourceVersion: string;
  timeoutSeconds: number;
  /** client-node's own inactivity abort, set above the operator's watchdog (see ADR 003). */
  inactivityTimeoutMs: number;
}

export interface KubeClient {
  list(
    k: ResourceKind,
    opts?: { namespace?: string; labelSelector?: string },
  ): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /** Start a watch; resolves once the request is sent. `abort()` ends it (onDone is then called). */
  watch(k: ResourceKind, opts: WatchOptions, handlers: WatchHandlers): Promise<{ abort(): void }>;
  get(k: ResourceKind, name: string, namespace?: string): Promise<KubeObject | undefined>;
  create(k: ResourceKind, obj: KubeObject): Promise<KubeObject>;
  replace(k: ResourceKind, obj: KubeObject): Promise<KubeObject>;
  /** JSON merge patch of the object, or of its status subresource (`status: true`). */
  mergePatch(
    k: ResourceKind,
    name: string,
    patch: Record<string, unknown>,
    opts?: { namespace?: string; status?: boolean },
  ): Promise<KubeObject>;
}

/** Plain JSON goes where client-node's typed APIs expect their model classes; the serializer maps it by field name. */
const typed = (o: object) => o as never;

const mergePatchHeader = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function createKubeClient(kc: KubeConfig): KubeClient {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const watcher = new Watch(kc);
  const plain = (o: unknown) => JSON.parse(JSON.stringify(o)) as KubeObject;

  const ops = (k: ResourceKind) => {
    const id = k.group ? `${k.plural}.${k.group}` : k.plural;
    switch (id) {
      case 'configmaps':
        return {
          list: (ns: string, labelSelector?: string) =>
            core.listNamespacedConfigMap({ namespace: ns, labelSelector }),
          get: (ns: string, name: string) => core.readNamespacedConfigMap({ name, namespace: ns }),
          create: (ns: string, body: KubeObject) =>
            core.createNamespacedConfigMap({ namespace: ns, body: typed(body), fieldManager }),
          replace: (ns: string, name: string, body: KubeObject) =>
            core.replaceNamespacedConfigMap({ name, namespace: ns, body: typed(body), fieldManager }),
          patch: (ns: string, name: string, body: object) =>
            core.patchNamespacedConfigMap(
              { name, namespace: ns, body: typed(body), fieldManager },
              mergePatchHeader,
            ),
        };
      case 'secrets':
        return {
          list: (ns: string, labelSelector?: string) =>
            core.listNamespacedSecret({ namespace: ns, labelSelector }),
          get: (ns: string, name: string) => core.readNamespacedSecret({ name, namespace: ns }),
          create: (ns: string, body: KubeObject) =>
            core.createNamespacedSecret({ namespace: ns, body: typed(body), fieldManager }),
          replace: (ns: string, name: string, body: KubeObject) =>
            core.replaceNamespacedSecret({ name, namespace: ns, body: typed(body), fieldManager }),
          patch: (ns: string, name: string, body: object) =>
            core.patchNamespacedSecret(
              { name, namespace: ns, body: typed(body), fieldManager },
              mergePatchHeader,
            ),
        };
      case 'events':
        return {
          list: (ns: string, labelSelector?: string) =>
            core.listNamespacedEvent({ namespace: ns, labelSelector }),
          get: (ns: string, name: string) => core.readNamespacedEvent({ name, namespace: ns }),
          create: (ns: string, body: KubeObject) =>
            core.createNamespacedEvent({ namespace: ns, body: typed(body), fieldManager }),
          replace: (ns: string, name: string, body: KubeObject) =>
            core.replaceNamespacedEvent({ name, namespace: ns, body: typed(body), fieldManager }),
          patch: (ns: string, name: string, body: object) =>
            core.patchNamespacedEvent(
              { name, namespace: ns, body: typed(body), fieldManager },
              mergePatchHeader,
            ),
        };
      case 'leases.coordination.k8s.io':
        return {
          list: (ns: string, labelSelector?: string) =>
            coordination.listNamespacedLease({ namespace: ns, labelSelector }),
          get: (ns: string, name: string) => coordination.readNamespacedLease({ name, namespace: ns }),
          create: (ns: string, body: KubeObject) =>
            coordination.createNamespacedLease({ namespace: ns, body: typed(leaseBody(body)), fieldManager }),
          replace: (ns: string, name: string, body: KubeObject) =>
            coordination.replaceNamespacedLease({
              name,
              namespace: ns,
              body: typed(leaseBody(body)),
              fieldManager,
            }),
          patch: (ns: string, name: string, body: object) =>
            coordination.patchNamespacedLease(
              { name, namespace: ns, body: typed(body), fieldManager },
              mergePatchHeader,
            ),
        };
      default: {
        if (k.namespaced) throw new Error(`KubeClient: unsupported namespaced kind ${id}`);
        const base = { group: k.group, version: k.version, plural: k.plural };
        return {
          list: (_ns: string, labelSelector?: string) =>
            custom.listClusterCustomObject({ ...base, labelSelector }),
          get: (_ns: string, name: string) => custom.getClusterCustomObject({ ...base, name }),
          create: (_ns: string, body: KubeObject) =>
            custom.createClusterCustomObject({ ...base, body: typed(body), fieldManager }),
          replace: (_ns: string, name: string, body: KubeObject) =>
            custom.replaceClusterCustomObject({ ...base, name, body: typed(body), fieldManager }),
          patch: (_ns: string, name: string, body: object) =>
            custom.patchClusterCustomObject(
              { ...base, name, body: typed(body), fieldManager },
              mergePatchHeader,
            ),
          patchStatus: (name: string, body: object) =>
            custom.patchClusterCustomObjectStatus(
              { ...base, name, body: typed(body), fieldManager },
              mergePatchHeader,
            ),
        };
      }
    }
  };

  return {
    async list(k, opts = {}) {
      const res = (await ops(k).list(opts.namespace ?? '', opts.labelSelector)) as unknown as {
        items: KubeObject[];
        metadata?: { resourceVersion?: string };
      };
      return { items: res.items.map(plain), resourceVersion: res.metadata?.resourceVersion ?? '' };
    },
    async watch(k, opts, handlers) {
      // client-node 2.0.1 aborts a watch after requestTimeoutMs (30 s) without data
      // (kubernetes-client/javascript#3020, #3022). Bookmarks arrive about once a
      // minute, so the operator's watchdog owns stall detection and this timer only
      // backs it up. The field is private in the typings, public at run time.
      (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.inactivityTimeoutMs;
      const controller = await watcher.watch(
        collectionPath(k, opts.namespace),
        {
          resourceVersion: opts.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: opts.timeoutSeconds,
          labelSelector: opts.labelSelector,
        },
        (type, obj) => handlers.onEvent(type, obj as KubeObject),
        (err) => handlers.onDone(err ?? null),
      );
      return { abort: () => controller.abort() };
    },
    async get(k, name, namespace) {
      try {
        return plain(await ops(k).get(namespace ?? '', name));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(k, obj) {
      return plain(await ops(k).create(obj.metadata.namespace ?? '', obj));
    },
    async replace(k, obj) {
      return plain(await ops(k).replace(obj.metadata.namespace ?? '', obj.metadata.name, obj));
    },
    async mergePatch(k, name, patch, opts = {}) {
      const o = ops(k);
      if (opts.status) {
        if (!('patchStatus' in o) || !o.patchStatus)
          throw new Error(`KubeClient: ${k.kind} has no status subresource`);
        return plain(await o.patchStatus(name, patch));
      }
      return plain(await o.patch(opts.namespace ?? '', name, patch));
    },
  };
}

/**
 * Lease times are metav1.MicroTime: the API server parses exactly six fraction
 * digits, and a plain Date serializes with three. client-node's V1MicroTime
 * (a Date subclass) serializes with six.
 */
function leaseBody(body: KubeObject): KubeObject {
  const spec = { ...(body.spec ?? {}) };
  for (const f of ['acquireTime', 'renewTime']) {
    const v = spec[f];
    if (typeof v === 'string' || v instanceof Date) spec[f] = toMicroTime(v);
  }
  return { ...body, spec };
}

export function toMicroTime(v: string | Date | number): string {
  const iso = new Date(v).toISOString(); // always millisecond precision, UTC
  return `${iso.slice(0, -1)}000Z`;
}
