/**
 * The `config` key: evaluate every resource, then write the rendered config
 * (ConfigMap), credentials (Secret) and containerd hosts files (ConfigMap)
 * in the operator's namespace. Idempotent: an object is written only when
 * its content differs from the current one. After a successful write the
 * evaluation is published and every resource is queued, so their status
 * reflects what the proxy actually gets.
 *
 * Follows the contract in contract.ts: API errors are retryable.
 */
import { isConflict, isNotFound } from '../kube/errors.ts';
import type { KubeObject, ResourceKind } from '../kube/resources.ts';
import { ConfigMapKind, SecretKind } from '../kube/resources.ts';
import { type Caches, outputLabels, type ReconcileContext } from './context.ts';
import { done, type ReconcileResult } from './contract.ts';
import { evaluate } from './evaluate.ts';

export const configKey = 'config';

export async function reconcileConfig(ctx: ReconcileContext): Promise<ReconcileResult> {
  const { caches } = ctx;
  const ev = evaluate({
    remotes: caches.list('Remote'),
    virtuals: caches.list('VirtualRepository'),
    projects: caches.list('Project'),
    packages: caches.list('Package'),
    secret: (ns, name) => caches.secret(ns, name),
    secretNamespaces: ctx.secretNamespaces,
    mirror: ctx.mirror,
  });
  const annotations = { 'orchard.dev/config-digest': ev.config.digest };
  await writeIfChanged(ctx, ConfigMapKind, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ctx.outputs.config, namespace: ctx.namespace, labels: outputLabels, annotations },
    data: { 'config.yaml': ev.configYaml },
  });
  await writeIfChanged(ctx, SecretKind, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: ctx.outputs.credentials, namespace: ctx.namespace, labels: outputLabels },
    type: 'Opaque',
    data: { 'credentials.yaml': Buffer.from(ev.credentialsYaml, 'utf8').toString('base64') },
  });
  await writeIfChanged(ctx, ConfigMapKind, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ctx.outputs.hosts, namespace: ctx.namespace, labels: outputLabels },
    data: ev.hostsToml,
  });
  const changed = !ctx.published || ctx.published.config.digest !== ev.config.digest;
  ctx.published = ev;
  if (changed)
    ctx.logger.info('proxy config published', { digest: ev.config.digest, resources: ev.judged.size });
  for (const key of ev.judged.keys()) ctx.enqueue(key);
  // Resources being deleted wait for a config without them before releasing their finalizer.
  for (const kind of ['Project', 'Package']) {
    for (const o of caches.list(kind))
      if (o.metadata.deletionTimestamp) ctx.enqueue(`${kind}/${o.metadata.name}`);
  }
  return done;
}

/** The last object the operator wrote, by kind/name: the watch cache may not have caught up with it yet. */
const lastWritten = new WeakMap<Caches, Map<string, KubeObject>>();

async function writeIfChanged(ctx: ReconcileContext, kind: ResourceKind, desired: KubeObject): Promise<void> {
  const name = desired.metadata.name;
  const written = lastWritten.get(ctx.caches) ?? new Map<string, KubeObject>();
  lastWritten.set(ctx.caches, written);
  const current = newer(
    ctx.caches.output(kind.kind as 'ConfigMap' | 'Secret', name),
    written.get(`${kind.kind}/${name}`),
  );
  if (current && sameContent(current, desired)) return;
  let result: KubeObject;
  try {
    result = current
      ? await ctx.client.replace(kind, {
          ...desired,
          metadata: { ...desired.metadata, resourceVersion: current.metadata.resourceVersion },
        })
      : await ctx.client.create(kind, desired);
  } catch (err) {
    // Deleted behind our back (or never there): forget what we wrote; the retry creates it.
    if (isNotFound(err) || isConflict(err)) written.delete(`${kind.kind}/${name}`);
    throw err;
  }
  written.set(`${kind.kind}/${name}`, result);
  ctx.metrics.configWrites.inc({ object: `${kind.kind}/${name}` });
  ctx.logger.info('wrote rendered object', {
    kind: kind.kind,
    name,
    resourceVersion: result.metadata.resourceVersion,
  });
}

function sameContent(current: KubeObject, desired: KubeObject): boolean {
  const labels = current.metadata.labels ?? {};
  const annotations = current.metadata.annotations ?? {};
  return (
    canonicalJson(current.data ?? {}) === canonicalJson(desired.data ?? {}) &&
    Object.entries(desired.metadata.labels ?? {}).every(([k, v]) => labels[k] === v) &&
    Object.entries(desired.metadata.annotations ?? {}).every(([k, v]) => annotations[k] === v)
  );
}

/** Of two versions of one object, the one with the higher resourceVersion (numeric when both are). */
function newer(a: KubeObject | undefined, b: KubeObject | undefined): KubeObject | undefined {
  if (!a || !b) return a ?? b;
  const ra = a.metadata.resourceVersion ?? '';
  const rb = b.metadata.resourceVersion ?? '';
  if (/^\d+$/.test(ra) && /^\d+$/.test(rb)) return BigInt(rb) > BigInt(ra) ? b : a;
  return a;
}

function canonicalJson(o: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}
