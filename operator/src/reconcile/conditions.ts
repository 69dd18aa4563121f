/**
 * status.conditions in the metav1.Condition shape. A condition's
 * lastTransitionTime changes only when its status flips; reason, message and
 * observedGeneration are refreshed on every write.
 */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** What a reconcile wants a condition to say. `reason` is CamelCase. */
export interface DesiredCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export interface Condition extends DesiredCondition {
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
export function kubeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The full condition list to write: `desired`, in that order, each keeping
 * the existing lastTransitionTime when its status did not change.
 * Conditions not in `desired` are dropped (the operator owns them all).
 */
export function mergeConditions(
  existing: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  generation: number | undefined,
  nowMs: number,
): Condition[] {
  return desired.map((d) => {
    const old = existing?.find((c) => c.type === d.type);
    const lastTransitionTime = old && old.status === d.status ? old.lastTransitionTime : kubeTime(nowMs);
    return {
      type: d.type,
      status: d.status,
      reason: d.reason,
      message: truncate(d.message, 1024),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      lastTransitionTime,
    };
  });
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
