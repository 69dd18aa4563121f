/**
 * The `Kind/name` keys: status, finalizer and deletion of one resource.
 * Follows the contract in contract.ts:
 *
 * - status (observedGeneration, conditions, proxy feedback) comes from the
 *   published evaluation, so Ready=True means "in the config written for the
 *   proxy"; if the evaluation predates the resource's generation, the
 *   `config` key is queued (it queues this key again when published);
 * - an invalid spec ends in TerminalError after its status is written;
 * - Remote and Package poll the proxy for feedback: requeueAfter;
 * - Project and Package carry the finalizer; on deletion the resource is
 *   first left out of the published config, then (deletionPolicy Delete) its
 *   data is deleted through the proxy API, then the finalizer is released.
 *   A failed delete is a condition, an Event and a retry.
 */
import { isConflict, isNotFound } from '../kube/errors.ts';
import { isDeleting, type KubeObject, keyOf, orchardKinds } from '../kube/resources.ts';
import { type Condition, type DesiredCondition, findCondition, mergeConditions } from './conditions.ts';
import { configKey } from './config.ts';
import { finalizer, type ReconcileContext } from './context.ts';
import { done, type ReconcileResult, requeueAfter, TerminalError } from './contract.ts';
import { fetchFeedback } from './feedback.ts';

export async function reconcileResource(
  ctx: ReconcileContext,
  kind: string,
  name: string,
): Promise<ReconcileResult> {
  const obj = ctx.caches.get(kind, name);
  if (!obj) return done;
  const key = keyOf(kind, name);
  const finalizable = kind === 'Project' || kind === 'Package';
  if (isDeleting(obj)) return finalizable && hasFinalizer(obj) ? finalize(ctx, kind, obj) : done;
  if (finalizable && !hasFinalizer(obj)) {
    await ctx.client.mergePatch(resourceKind(kind), name, {
      metadata: {
        finalizers: [...(obj.metadata.finalizers ?? []), finalizer],
        resourceVersion: obj.metadata.resourceVersion,
      },
    });
    return done; // the update event queues the key again
  }
  const ev = ctx.published;
  if (!ev || ev.judged.get(key) !== String(obj.metadata.generation ?? '')) {
    ctx.enqueue(configKey);
    return done;
  }
  const verdict = ev.verdicts.get(key);
  if (!verdict) return done;
  const conditions: DesiredCondition[] = [...verdict.conditions];
  const feedback = verdict.valid ? await fetchFeedback(ctx, kind, obj) : undefined;
  if (feedback) conditions.push(feedback.condition);
  const fields = { ...(feedback?.fields ?? {}) };
  if (kind === 'Project') {
    fields.packageCount = [...ev.config.packages.values()].filter((p) => p.project === name).length;
  }
  await writeStatus(ctx, kind, obj, conditions, fields);
  if (!verdict.valid) {
    const ready = conditions[0];
    throw new TerminalError(`${key}: ${ready.reason}: ${ready.message}`);
  }
  return feedback ? requeueAfter(feedback.nextPollMs) : done;
}

async function finalize(ctx: ReconcileContext, kind: string, obj: KubeObject): Promise<ReconcileResult> {
  const name = obj.metadata.name;
  if (!ctx.published || ctx.published.judged.has(keyOf(kind, name))) {
    ctx.enqueue(configKey); // the config reconcile queues this key again once the config no longer has it
    return done;
  }
  const uid = obj.metadata.uid ?? '';
  if (ctx.finalized.has(uid)) return removeFinalizer(ctx, kind, obj);
  const spec = (obj.spec ?? {}) as { deletionPolicy?: string; project?: string; name?: string };
  const policy = spec.deletionPolicy ?? 'Retain';
  if (policy === 'Delete') {
    const what = kind === 'Package' ? `package ${spec.project}/${spec.name ?? name}` : `project ${name}`;
    try {
      if (!ctx.proxy) throw new Error('no proxy URL is configured (ORCHARD_OPERATOR_PROXY_URL)');
      if (kind === 'Package') await ctx.proxy.deletePackage(String(spec.project), spec.name ?? name);
      else await ctx.proxy.deleteProject(name);
    } catch (err) {
      const message = `deleting the data of ${what} failed: ${(err as Error).message}`;
      await writeStatus(ctx, kind, obj, [
        { type: 'Ready', status: 'False', reason: 'Deleting', message: 'being deleted' },
        { type: 'DataDeleted', status: 'False', reason: 'DeleteFailed', message },
      ]);
      await ctx.events.record(obj, 'Warning', 'DeleteFailed', message);
      throw err;
    }
    await ctx.events.record(
      obj,
      'Normal',
      'DataDeleted',
      `deleted the data of ${what} (deletionPolicy Delete)`,
    );
  } else {
    await ctx.events.record(
      obj,
      'Normal',
      'DataRetained',
      'no longer declared; its data is kept (deletionPolicy Retain)',
    );
  }
  ctx.finalized.add(uid);
  if (ctx.finalized.size > 10_000) ctx.finalized.delete(ctx.finalized.values().next().value as string);
  return removeFinalizer(ctx, kind, obj);
}

async function removeFinalizer(
  ctx: ReconcileContext,
  kind: string,
  obj: KubeObject,
): Promise<ReconcileResult> {
  const name = obj.metadata.name;
  try {
    await ctx.client.mergePatch(resourceKind(kind), name, {
      metadata: {
        finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer),
        resourceVersion: obj.metadata.resourceVersion,
      },
    });
  } catch (err) {
    if (isNotFound(err)) return done;
    if (!isConflict(err)) throw err;
    throw new Error(`${kind}/${name} changed while releasing its finalizer; retrying`);
  }
  return done;
}

/** Write status if it differs from the current one; record an Event when Ready flips or changes reason. */
async function writeStatus(
  ctx: ReconcileContext,
  kind: string,
  obj: KubeObject,
  desired: DesiredCondition[],
  fields: Record<string, unknown> = {},
): Promise<void> {
  const old = (obj.status ?? {}) as { conditions?: Condition[]; observedGeneration?: number };
  const generation = obj.metadata.generation;
  const conditions = mergeConditions(old.conditions, desired, generation, ctx.now());
  const status: Record<string, unknown> = { ...old, ...fields, observedGeneration: generation, conditions };
  for (const [k, v] of Object.entries(status)) if (v === undefined) delete status[k];
  if (JSON.stringify(canonical(status)) === JSON.stringify(canonical(old))) return;
  const patch: Record<string, unknown> = { ...status };
  for (const k of Object.keys(old)) if (!(k in status)) patch[k] = null;
  await ctx.client.mergePatch(resourceKind(kind), obj.metadata.name, { status: patch }, { status: true });
  const before = findCondition(old.conditions, 'Ready');
  const after = conditions[0];
  if (after.type === 'Ready' && (before?.status !== after.status || before?.reason !== after.reason)) {
    const ok = after.status === 'True';
    await ctx.events.record(obj, ok ? 'Normal' : 'Warning', after.reason, after.message || 'Ready');
  }
}

function hasFinalizer(o: KubeObject): boolean {
  return (o.metadata.finalizers ?? []).includes(finalizer);
}

function resourceKind(kind: string) {
  const k = orchardKinds.find((x) => x.kind === kind);
  if (!k) throw new Error(`unknown kind ${kind}`);
  return k;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
