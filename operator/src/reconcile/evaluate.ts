/**
 * Judge every Orchard resource in the watch caches and render the proxy
 * config of the valid ones. Pure: the same snapshot gives the same result.
 *
 * Validation is the proxy's own (`buildConfig`: CRD schema, the CEL rules'
 * counterparts, the semantic rules), so a resource is judged the same in a
 * cluster and standalone. On top, checks that only make sense in a cluster:
 * the referenced Secret lives in a namespace the operator watches and holds
 * usable keys; a virtual repository's members and a package's project are
 * themselves valid (else the rendered config would point at nothing).
 * Invalid resources are left out and never break the config of the others.
 */
import { buildConfig, type InputDocument } from '../../../proxy/src/config/normalize.ts';
import { renderConfigDocuments } from '../../../proxy/src/config/render.ts';
import { parseSecret } from '../../../proxy/src/config/secrets.ts';
import type { ConfigIssue, OrchardConfig } from '../../../proxy/src/config/types.ts';
import { isDeleting, type KubeObject, keyOf } from '../kube/resources.ts';
import type { DesiredCondition } from './conditions.ts';
import { type MirrorEndpoint, renderHostsToml } from './hosts-toml.ts';
import { describeIssues } from './reasons.ts';

export interface Snapshot {
  remotes: readonly KubeObject[];
  virtuals: readonly KubeObject[];
  projects: readonly KubeObject[];
  packages: readonly KubeObject[];
  secret(namespace: string, name: string): KubeObject | undefined;
  /** Namespaces whose Secrets the operator watches; the first is its own (the default for secretRef). */
  secretNamespaces: readonly string[];
  mirror: MirrorEndpoint;
}

export interface Verdict {
  valid: boolean;
  conditions: DesiredCondition[];
}

export interface Evaluation {
  config: OrchardConfig;
  configYaml: string;
  credentialsYaml: string;
  hostsToml: Record<string, string>;
  /** By queue key (`Kind/name`), for every resource not being deleted. */
  verdicts: Map<string, Verdict>;
  /** Queue key -> metadata.generation that was judged, for every resource judged (not being deleted). */
  judged: Map<string, string>;
}

const kindsOf = (s: Snapshot): [string, readonly KubeObject[]][] => [
  ['Remote', s.remotes],
  ['VirtualRepository', s.virtuals],
  ['Project', s.projects],
  ['Package', s.packages],
];

export function evaluate(s: Snapshot): Evaluation {
  const docs = new Map<string, InputDocument>();
  const specs = new Map<string, Record<string, unknown>>();
  const judged = new Map<string, string>();
  for (const [kind, objects] of kindsOf(s)) {
    for (const o of objects) {
      if (isDeleting(o)) continue;
      const key = keyOf(kind, o.metadata.name);
      judged.set(key, String(o.metadata.generation ?? ''));
      specs.set(key, o.spec ?? {});
      docs.set(key, {
        file: key,
        index: 1,
        object: {
          apiVersion: 'orchard.dev/v1alpha1',
          kind,
          metadata: { name: o.metadata.name },
          spec: o.spec,
        },
      });
    }
  }
  const own = new Map<string, ConfigIssue[]>();
  const secretDocs = secretDocuments(s, docs, own);
  let result = buildConfig([...docs.values(), ...secretDocs]);
  // Leave out what failed the extra checks, and whatever depends on something left out, until stable.
  for (let round = 0; round < 8; round++) {
    const dropped = findDangling(result.config, docs, own);
    for (const key of own.keys()) dropped.add(key);
    const before = docs.size;
    for (const key of dropped) docs.delete(key);
    if (docs.size === before) break;
    result = buildConfig([...docs.values(), ...secretDocs]);
  }

  const known = new Set(judged.keys());
  const verdicts = new Map<string, Verdict>();
  for (const key of judged.keys()) {
    const issues = [...(result.rejected.get(key) ?? []), ...(own.get(key) ?? [])];
    const kind = key.split('/')[0];
    verdicts.set(key, {
      valid: issues.length === 0,
      conditions: describeIssues(kind, specs.get(key) ?? {}, issues, known),
    });
  }
  const { configYaml, credentialsYaml } = renderConfigDocuments(result.config);
  const hostsToml = renderHostsToml(result.config.remotes.values(), s.mirror);
  return { config: result.config, configYaml, credentialsYaml, hostsToml, verdicts, judged };
}

/**
 * The v1 Secret documents the Remotes refer to, with the namespace filled in.
 * Remotes whose Secret is in an unwatched namespace or lacks usable keys get
 * an issue in `own` (a missing Secret is left to buildConfig's secret-exists rule).
 */
function secretDocuments(
  s: Snapshot,
  docs: Map<string, InputDocument>,
  own: Map<string, ConfigIssue[]>,
): InputDocument[] {
  const out = new Map<string, InputDocument>();
  for (const o of s.remotes) {
    const key = keyOf('Remote', o.metadata.name);
    const ref = (o.spec?.auth as { secretRef?: { name?: string; namespace?: string } } | undefined)
      ?.secretRef;
    if (!docs.has(key) || !ref?.name) continue;
    const ns = ref.namespace || s.secretNamespaces[0];
    const issue = (rule: string, message: string) =>
      own.set(key, [
        ...(own.get(key) ?? []),
        { file: key, document: 1, path: '/spec/auth/secretRef', rule, message },
      ]);
    if (!s.secretNamespaces.includes(ns)) {
      issue(
        'secret-namespace-watched',
        `Secret ${ns}/${ref.name} is in a namespace the operator does not watch (watched: ${s.secretNamespaces.join(', ')})`,
      );
      continue;
    }
    const secret = s.secret(ns, ref.name);
    if (!secret) continue;
    const object = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: ref.name, namespace: ns },
      data: secret.data ?? {},
    };
    const creds = parseSecret(object).secret?.credentials ?? {};
    const hasBasic = creds.username !== undefined && creds.password !== undefined;
    if (!hasBasic && creds.token === undefined && !creds.headers) {
      issue(
        'secret-keys',
        `Secret ${ns}/${ref.name} has none of the expected keys: username and password, token, or header.<Name>`,
      );
      continue;
    }
    if ((creds.username === undefined) !== (creds.password === undefined)) {
      issue('secret-keys', `Secret ${ns}/${ref.name} must have both username and password, or neither`);
      continue;
    }
    out.set(`${ns}/${ref.name}`, { file: `Secret/${ns}/${ref.name}`, index: 1, object });
  }
  return [...out.values()];
}

/** Valid virtual repositories whose members, and packages whose project, did not make it into the config. */
function findDangling(
  config: OrchardConfig,
  docs: Map<string, InputDocument>,
  own: Map<string, ConfigIssue[]>,
): Set<string> {
  const dropped = new Set<string>();
  const issue = (key: string, path: string, rule: string, message: string) => {
    own.set(key, [...(own.get(key) ?? []), { file: key, document: 1, path, rule, message }]);
    dropped.add(key);
  };
  for (const v of config.virtuals.values()) {
    v.members.forEach((m, i) => {
      if (!config.remotes.has(m)) {
        issue(
          keyOf('VirtualRepository', v.name),
          `/spec/members/${i}`,
          'virtual-member-ready',
          `member "${m}" is not Ready`,
        );
      }
    });
  }
  for (const p of config.packages.values()) {
    if (!config.projects.has(p.project)) {
      issue(
        keyOf('Package', p.resourceName),
        '/spec/project',
        'package-project-ready',
        `project "${p.project}" is not Ready`,
      );
    }
  }
  for (const key of dropped) if (!docs.has(key)) dropped.delete(key);
  return dropped;
}
