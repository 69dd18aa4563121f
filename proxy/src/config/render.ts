/**
 * Render a normalized config back to documents: the operator writes
 * `configYaml` into a ConfigMap and `credentialsYaml` into a Secret, and the
 * proxy mounts both into one directory (a projected volume). loadConfig on
 * that directory yields a config with the same digest and credentials.
 */
import { stringify } from 'yaml';
import { apiVersion } from './crds.ts';
import type { Credentials, OrchardConfig, RemoteConfig } from './types.ts';

export interface RenderedConfig {
  /** Multi-document YAML of every resource with every default spelled out. No credentials. */
  configYaml: string;
  /** Multi-document YAML of v1 Secrets holding the remotes' credentials (empty when there are none). */
  credentialsYaml: string;
}

const header =
  '# Rendered by Orchard from the orchard.dev resources. Do not edit: changes are overwritten.\n';

export function renderConfigDocuments(cfg: OrchardConfig): RenderedConfig {
  const docs: unknown[] = [];
  for (const r of cfg.remotes.values()) docs.push(resource('Remote', r.name, remoteSpec(r)));
  for (const v of cfg.virtuals.values()) {
    docs.push(
      resource('VirtualRepository', v.name, {
        package: v.package,
        members: [...v.members],
        description: v.description,
      }),
    );
  }
  for (const p of cfg.projects.values()) {
    const { name, access, ...rest } = p;
    docs.push(resource('Project', name, { ...rest, access: access.map((a) => ({ ...a })) }));
  }
  for (const p of cfg.packages.values()) {
    const { resourceName, name, ...rest } = p;
    docs.push(resource('Package', resourceName, { ...rest, ...(name !== resourceName ? { name } : {}) }));
  }

  const secrets = new Map<string, unknown>();
  for (const r of cfg.remotes.values()) {
    // Emitted even when empty, so the rendered auth.secretRef resolves on reload.
    if (!r.secretRef) continue;
    const creds = cfg.credentials(r.name) ?? {};
    const { name, namespace } = r.secretRef;
    secrets.set(`${namespace ?? ''}/${name}`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, ...(namespace ? { namespace } : {}) },
      type: 'Opaque',
      stringData: secretData(creds),
    });
  }
  return {
    configYaml: header + joinDocs(docs),
    credentialsYaml: secrets.size ? header + joinDocs([...secrets.values()]) : '',
  };
}

function remoteSpec(r: RemoteConfig): Record<string, unknown> {
  return {
    type: r.type,
    package: r.package,
    ...(r.baseUrl !== undefined ? { baseUrl: r.baseUrl } : {}),
    description: r.description,
    ...(r.immutablePatternSources.length ? { immutablePatterns: [...r.immutablePatternSources] } : {}),
    ...(r.mutablePatternSources.length ? { mutablePatterns: [...r.mutablePatternSources] } : {}),
    checkMutableUpdates: r.checkMutableUpdates,
    cache: { ...r.cache },
    ...(r.secretRef ? { auth: { secretRef: { ...r.secretRef } } } : {}),
    ...(r.quarantine
      ? {
          quarantine: {
            days: r.quarantine.days,
            ...(r.quarantine.exemptPatternSources.length
              ? { exemptPatterns: [...r.quarantine.exemptPatternSources] }
              : {}),
          },
        }
      : {}),
    staleOnError: [...r.staleOnError],
    ...(r.mirrorOf.length ? { mirrorOf: [...r.mirrorOf] } : {}),
    ...(Object.keys(r.options).length ? { options: { ...r.options } } : {}),
  };
}

function secretData(c: Credentials): Record<string, string> {
  const out: Record<string, string> = {};
  if (c.username !== undefined) out.username = c.username;
  if (c.password !== undefined) out.password = c.password;
  if (c.token !== undefined) out.token = c.token;
  for (const [k, v] of Object.entries(c.headers ?? {})) out[`header.${k}`] = v;
  return out;
}

function resource(kind: string, name: string, spec: Record<string, unknown>): unknown {
  return { apiVersion, kind, metadata: { name }, spec };
}

function joinDocs(docs: unknown[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}
