/**
 * Status feedback from the proxy for Remotes (cached objects and bytes,
 * upstream health and last error) and Packages (tag and artifact counts,
 * total size, latest tag), polled at most every statsIntervalMs per resource.
 * A proxy that is down or does not serve the endpoint yields a
 * `StatsAvailable=False` condition and keeps the last known numbers.
 */
import type { KubeObject } from '../kube/resources.ts';
import { keyOf } from '../kube/resources.ts';
import { type DesiredCondition, kubeTime } from './conditions.ts';
import type { ReconcileContext } from './context.ts';

export interface Feedback {
  condition: DesiredCondition;
  fields: Record<string, unknown>;
  nextPollMs: number;
}

export async function fetchFeedback(
  ctx: ReconcileContext,
  kind: string,
  obj: KubeObject,
): Promise<Feedback | undefined> {
  if (!ctx.proxy || (kind !== 'Remote' && kind !== 'Package')) return undefined;
  const key = keyOf(kind, obj.metadata.name);
  const now = ctx.now();
  const cached = ctx.feedback.get(key);
  if (cached && now - cached.at < ctx.statsIntervalMs) {
    return {
      condition: cached.condition,
      fields: cached.fields,
      nextPollMs: cached.at + ctx.statsIntervalMs - now,
    };
  }
  const spec = (obj.spec ?? {}) as { project?: string; name?: string };
  const result =
    kind === 'Remote'
      ? await ctx.proxy.remoteStats(obj.metadata.name)
      : await ctx.proxy.packageStats(String(spec.project), spec.name ?? obj.metadata.name);
  let fields: Record<string, unknown>;
  let condition: DesiredCondition;
  if (result.ok) {
    const s = result.stats as unknown as Record<string, unknown>;
    fields =
      kind === 'Remote'
        ? {
            cachedObjects: s.cachedObjects,
            cachedBytes: s.cachedBytes,
            lastUpstreamError: s.lastUpstreamError,
            lastUpstreamErrorTime: kubeTimeOf(s.lastUpstreamErrorTime),
            upstreamHealthy: s.upstreamHealthy,
          }
        : {
            tagCount: s.tagCount,
            artifactCount: s.artifactCount,
            totalSize: s.totalSize,
            latestTag: s.latestTag,
            latestUploadAt: kubeTimeOf(s.latestUploadAt),
          };
    condition = {
      type: 'StatsAvailable',
      status: 'True',
      reason: 'StatsReported',
      message: 'reported by the proxy',
    };
  } else {
    fields = {};
    condition = { type: 'StatsAvailable', status: 'False', reason: result.reason, message: result.message };
  }
  ctx.feedback.set(key, { at: now, fields, condition });
  return { condition, fields, nextPollMs: ctx.statsIntervalMs };
}

/** An RFC 3339 time from the proxy as metav1.Time (whole seconds, UTC); undefined when absent or unparsable. */
function kubeTimeOf(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : kubeTime(ms);
}
