/** The Kubernetes resources the operator touches, and the object shape it handles them as. */
export interface ResourceKind {
  group: string; // '' for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Any Kubernetes object as plain JSON. Timestamps may arrive as strings or Dates (typed client models). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
  [k: string]: unknown;
}

const orchard = { group: 'orchard.dev', version: 'v1alpha1', namespaced: false };

export const RemoteKind: ResourceKind = { ...orchard, plural: 'remotes', kind: 'Remote' };
export const VirtualRepositoryKind: ResourceKind = {
  ...orchard,
  plural: 'virtualrepositories',
  kind: 'VirtualRepository',
};
export const ProjectKind: ResourceKind = { ...orchard, plural: 'projects', kind: 'Project' };
export const PackageKind: ResourceKind = { ...orchard, plural: 'packages', kind: 'Package' };
export const ConfigMapKind: ResourceKind = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};
export const SecretKind: ResourceKind = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  kind: 'Secret',
  namespaced: true,
};

export const orchardKinds = [RemoteKind, VirtualRepositoryKind, ProjectKind, PackageKind] as const;

export function apiVersionOf(k: ResourceKind): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

/** The URL path of a collection (namespace required for namespaced kinds). */
export function collectionPath(k: ResourceKind, namespace?: string): string {
  const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  if (k.namespaced && namespace) return `${base}/namespaces/${namespace}/${k.plural}`;
  return `${base}/${k.plural}`;
}

/** `Kind/name` or `Kind/namespace/name`: the work-queue key of an object. */
export function keyOf(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
}

export function isDeleting(o: KubeObject): boolean {
  return o.metadata.deletionTimestamp !== undefined && o.metadata.deletionTimestamp !== null;
}
