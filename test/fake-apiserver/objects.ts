/**
 * TEST FAKE. Direct, in-process access to the fake's objects for test setup
 * and assertions (the operator under test always goes through HTTP). Writes
 * go through the same store rules as HTTP writes and produce watch events.
 */
import { applyMergePatch } from './merge-patch.ts';
import { apiVersionOf, findResourceTypeByKind, type ResourceType } from './resources.ts';
import type { KubeObject, ObjectStore } from './store.ts';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export class FakeObjects {
  private readonly store: ObjectStore;
  constructor(store: ObjectStore) {
    this.store = store;
  }

  /** Create (as kubectl create): 409 AlreadyExists is thrown as an ApiError. */
  create<T extends KubeObject>(obj: T & { apiVersion: string; kind: string }): KubeObject {
    return this.store.create(typeOf(obj), obj.metadata.namespace ?? '', obj);
  }

  /** Create or merge the given object over the existing one (spec and metadata; status ignored). */
  apply(obj: KubeObject & { apiVersion: string; kind: string }): KubeObject {
    const t = typeOf(obj);
    const ns = obj.metadata.namespace ?? '';
    const old = this.store.get(t, ns, obj.metadata.name);
    if (!old) return this.store.create(t, ns, obj);
    const merged = applyMergePatch(old, obj) as KubeObject;
    merged.metadata.resourceVersion = old.metadata.resourceVersion;
    return this.store.update(t, ns, obj.metadata.name, merged);
  }

  get(ref: ObjectRef): KubeObject | undefined {
    return this.store.get(typeOf(ref), ref.namespace ?? '', ref.name);
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    return this.store.list(typeOf({ apiVersion, kind }), namespace);
  }

  /** Merge-patch without a precondition; `status: true` patches the status subresource. */
  patch(ref: ObjectRef, patch: Record<string, unknown>, opts: { status?: boolean } = {}): KubeObject {
    const t = typeOf(ref);
    const old = this.store.get(t, ref.namespace ?? '', ref.name);
    if (!old) throw new Error(`fake: ${ref.kind} ${ref.name} not found`);
    const merged = applyMergePatch(old, patch) as KubeObject;
    merged.metadata.resourceVersion = old.metadata.resourceVersion;
    return this.store.update(t, ref.namespace ?? '', ref.name, merged, opts);
  }

  /** Delete (as kubectl delete): with finalizers the object stays, marked with deletionTimestamp. */
  delete(ref: ObjectRef): { object: KubeObject; removed: boolean } {
    return this.store.delete(typeOf(ref), ref.namespace ?? '', ref.name);
  }
}

function typeOf(ref: { apiVersion: string; kind: string }): ResourceType {
  const t = findResourceTypeByKind(ref.apiVersion, ref.kind);
  if (!t) throw new Error(`fake API server does not serve ${ref.apiVersion} ${ref.kind}`);
  return t;
}

export { apiVersionOf };
