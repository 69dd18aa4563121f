/**
 * TEST FAKE. The resource table of the fake Kubernetes API server: which
 * group/version/plural it serves and how each behaves (scope, status
 * subresource, generation). Only what the Orchard operator touches.
 */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** The /status subresource exists; the main endpoint then ignores status changes. */
  statusSubresource: boolean;
  /** metadata.generation is maintained (bumped on spec changes). True for custom resources. */
  generation: boolean;
  /** PUT without metadata.resourceVersion is refused (custom resources never allow unconditional updates). */
  requireResourceVersion: boolean;
  /** Items in list responses carry kind/apiVersion (true for CRs, false for built-in types). */
  listItemsTyped: boolean;
  /** A DELETE that removes the object immediately answers with the object (true) or a v1 Status (false). */
  deleteReturnsObject: boolean;
}

const core = { group: '', version: 'v1', namespaced: true, statusSubresource: false, generation: false };
const builtin = { requireResourceVersion: false, listItemsTyped: false, deleteReturnsObject: false };
const custom = {
  group: 'orchard.dev',
  version: 'v1alpha1',
  namespaced: false,
  statusSubresource: true,
  generation: true,
  requireResourceVersion: true,
  listItemsTyped: true,
  deleteReturnsObject: true,
};

export const resourceTypes: ResourceType[] = [
  { ...core, ...builtin, plural: 'configmaps', kind: 'ConfigMap' },
  { ...core, ...builtin, plural: 'secrets', kind: 'Secret' },
  { ...core, ...builtin, plural: 'events', kind: 'Event' },
  { ...core, ...builtin, plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { ...core, ...builtin, group: 'events.k8s.io', plural: 'events', kind: 'Event' },
  { ...core, ...builtin, group: 'coordination.k8s.io', plural: 'leases', kind: 'Lease' },
  { ...custom, plural: 'remotes', kind: 'Remote' },
  { ...custom, plural: 'virtualrepositories', kind: 'VirtualRepository' },
  { ...custom, plural: 'projects', kind: 'Project' },
  { ...custom, plural: 'packages', kind: 'Package' },
];

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function findResourceType(group: string, version: string, plural: string): ResourceType | undefined {
  return resourceTypes.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export function findResourceTypeByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return resourceTypes.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}
