/** Helpers over rendered manifests and the kustomize manifests in config/. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type K8sObject, repoRoot } from './chart.ts';

export function configObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(join(repoRoot, 'config', file), 'utf8'))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function configObject(file: string, kind: string, name?: string): K8sObject {
  const o = configObjects(file).find((x) => x.kind === kind && (!name || x.metadata.name === name));
  if (!o) throw new Error(`config/${file} has no ${kind} ${name ?? ''}`);
  return o;
}

// biome-ignore lint/suspicious/noExplicitAny: pod specs are checked field by field
export type PodSpec = Record<string, any>;

export function podSpec(o: K8sObject): PodSpec {
  return o.spec.template.spec;
}

// biome-ignore lint/suspicious/noExplicitAny: container specs are checked field by field
export function container(o: K8sObject, name?: string): Record<string, any> {
  const cs = podSpec(o).containers;
  return name ? cs.find((c: { name: string }) => c.name === name) : cs[0];
}

export function envMap(c: { env?: { name: string; value?: string; valueFrom?: unknown }[] }) {
  return new Map((c.env ?? []).map((e) => [e.name, e]));
}

export function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Violations of the Pod Security Standards' `restricted` level
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/)
 * that a manifest can show: host namespaces, hostPath, host ports,
 * privilege, escalation, capabilities, runAsNonRoot, seccomp.
 */
export function restrictedViolations(spec: PodSpec): string[] {
  const out: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push('host namespaces');
  for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`hostPath volume ${v.name}`);
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${c.name}: hostPort`);
    if (sc.privileged) out.push(`${c.name}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation not false`);
    if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') out.push(`${c.name}: capabilities not dropped`);
    if ((sc.capabilities?.add ?? []).some((a: string) => a !== 'NET_BIND_SERVICE'))
      out.push(`${c.name}: adds caps`);
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) out.push(`${c.name}: runAsNonRoot not true`);
    if ((sc.runAsUser ?? pod.runAsUser) === 0) out.push(`${c.name}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${c.name}: no seccomp profile`);
  }
  return out;
}
