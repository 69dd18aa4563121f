/**
 * From validation issues to status conditions. Each kind has `Ready` plus
 * specific conditions; each issue rule maps to one condition and a CamelCase
 * reason. Rule ids come from proxy/src/config (schema:*, cel:*, semantic
 * rules) and from the operator's own checks (evaluate.ts).
 */
import type { ConfigIssue } from '../../../proxy/src/config/types.ts';
import type { DesiredCondition } from './conditions.ts';

export const conditionTypes: Record<string, string[]> = {
  Remote: ['Ready', 'SpecValid', 'SecretResolved'],
  VirtualRepository: ['Ready', 'SpecValid', 'MembersResolved'],
  Project: ['Ready', 'SpecValid'],
  Package: ['Ready', 'SpecValid', 'ProjectResolved'],
};

interface Mapped {
  type: string;
  reason: string;
}

/** The condition and reason an issue belongs to. `known` holds the queue keys of existing resources. */
export function classifyIssue(issue: ConfigIssue, spec: Record<string, unknown>, known: Set<string>): Mapped {
  const r = issue.rule;
  if (r.startsWith('schema:')) return { type: 'SpecValid', reason: 'SchemaViolation' };
  if (r.startsWith('cel:')) return { type: 'SpecValid', reason: 'RuleViolation' };
  switch (r) {
    case 'pattern-compiles':
      return { type: 'SpecValid', reason: 'InvalidPattern' };
    case 'mirror-of-unique':
      return { type: 'SpecValid', reason: 'MirrorHostConflict' };
    case 'repository-name-unique':
      return { type: 'SpecValid', reason: 'NameConflict' };
    case 'package-name-unique':
      return { type: 'SpecValid', reason: 'PackageNameConflict' };
    case 'secret-exists':
      return { type: 'SecretResolved', reason: 'SecretNotFound' };
    case 'secret-namespace-watched':
      return { type: 'SecretResolved', reason: 'SecretNamespaceNotWatched' };
    case 'secret-keys':
    case 'secret-format':
      return { type: 'SecretResolved', reason: 'SecretKeysMissing' };
    case 'virtual-member-exists': {
      const member = memberAt(issue.path, spec);
      return known.has(`Remote/${member}`)
        ? { type: 'MembersResolved', reason: 'MemberNotReady' }
        : { type: 'MembersResolved', reason: 'MemberNotFound' };
    }
    case 'virtual-member-ready':
    case 'virtual-member-valid':
      return { type: 'MembersResolved', reason: 'MemberNotReady' };
    case 'virtual-member-is-remote':
      return { type: 'MembersResolved', reason: 'MemberNotARemote' };
    case 'virtual-member-package':
      return { type: 'MembersResolved', reason: 'MemberPackageMismatch' };
    case 'package-project-exists':
      return known.has(`Project/${String(spec.project)}`)
        ? { type: 'ProjectResolved', reason: 'ProjectNotReady' }
        : { type: 'ProjectResolved', reason: 'ProjectNotFound' };
    case 'package-project-ready':
      return { type: 'ProjectResolved', reason: 'ProjectNotReady' };
    default:
      return { type: 'SpecValid', reason: 'Invalid' };
  }
}

const okReason: Record<string, string> = {
  SpecValid: 'Valid',
  SecretResolved: 'SecretFound',
  MembersResolved: 'AllMembersReady',
  ProjectResolved: 'ProjectReady',
};

/** The conditions of one resource (not being deleted) from its issues; Ready last-computed, listed first. */
export function describeIssues(
  kind: string,
  spec: Record<string, unknown>,
  issues: readonly ConfigIssue[],
  known: Set<string>,
): DesiredCondition[] {
  const byType = new Map<string, { reason: string; messages: string[] }>();
  for (const i of issues) {
    const m = classifyIssue(i, spec, known);
    const entry = byType.get(m.type) ?? { reason: m.reason, messages: [] };
    entry.messages.push(`${i.path || '/'}: ${i.message}`);
    byType.set(m.type, entry);
  }
  const specBroken = byType.has('SpecValid');
  const out: DesiredCondition[] = [];
  for (const type of conditionTypes[kind].slice(1)) {
    const bad = byType.get(type);
    if (bad) {
      out.push({ type, status: 'False', reason: bad.reason, message: bad.messages.join('; ') });
    } else if (type === 'SecretResolved' && !(spec.auth as { secretRef?: unknown } | undefined)?.secretRef) {
      out.push({ type, status: 'True', reason: 'NoSecretReferenced', message: 'spec.auth names no Secret' });
    } else if (type !== 'SpecValid' && specBroken) {
      // References are only checked on a spec that is valid on its own.
      out.push({
        type,
        status: 'Unknown',
        reason: 'SpecInvalid',
        message: 'not checked: the spec is invalid',
      });
    } else {
      out.push({ type, status: 'True', reason: okReason[type], message: '' });
    }
  }
  const failed = out.find((c) => c.status === 'False');
  const ready: DesiredCondition = failed
    ? { type: 'Ready', status: 'False', reason: failed.reason, message: failed.message }
    : { type: 'Ready', status: 'True', reason: 'Rendered', message: 'included in the proxy configuration' };
  return [ready, ...out];
}

function memberAt(path: string, spec: Record<string, unknown>): string {
  const m = /^\/spec\/members\/(\d+)$/.exec(path);
  const members = spec.members as unknown[] | undefined;
  return m && members ? String(members[Number(m[1])]) : '';
}
