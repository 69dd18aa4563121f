/**
 * TEST FAKE. The fake API server's object store: one global, monotonically
 * increasing resourceVersion (as the real server's etcd revision), a bounded
 * history of watch events (older start points answer 410 Gone), and the
 * write rules the real server applies: uid/creationTimestamp on create,
 * generation bumped only by non-metadata/non-status changes, 409 on a stale
 * resourceVersion, no-op writes that do not bump the resourceVersion, the
 * status subresource, finalizers and deletionTimestamp.
 *
 * Everything is synchronous; callers are the HTTP handlers of one process.
 */
import { randomUUID } from 'node:crypto';
import { isPlainObject, jsonEqual } from './merge-patch.ts';
import { apiVersionOf, type ResourceType } from './resources.ts';
import { alreadyExists, badRequest, conflict, invalid, notFound } from './status.ts';
import { validateObject } from './validation.ts';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generateName?: string;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  rv: number;
  type: EventType;
  resource: ResourceType;
  object: KubeObject;
}

export interface WriteOptions {
  /** Write through the /status subresource: only .status is taken from the body. */
  status?: boolean;
}

export class ObjectStore {
  private rv = 0;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: StoredEvent[] = [];
  /** Highest resourceVersion whose event was dropped from history; watches must start at or after it. */
  private compactedThrough = 0;
  private readonly listeners = new Set<(e: StoredEvent) => void>();
  private readonly maxHistory: number;
  private readonly now: () => number;

  constructor(opts: { maxHistory?: number; now?: () => number } = {}) {
    this.maxHistory = opts.maxHistory ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  currentResourceVersion(): string {
    return String(this.rv);
  }

  get(t: ResourceType, ns: string, name: string): KubeObject | undefined {
    const o = this.objects.get(keyOf(t, ns, name));
    return o ? structuredClone(o) : undefined;
  }

  /** Objects of a type, in one namespace or (ns undefined) all of them, sorted by namespace/name. */
  list(t: ResourceType, ns: string | undefined): KubeObject[] {
    const prefix = `${t.plural}.${t.group}/${ns === undefined ? '' : `${ns}/`}`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, o]) => structuredClone(o));
  }

  create(t: ResourceType, ns: string, body: KubeObject): KubeObject {
    const meta = body.metadata ?? ({} as ObjectMeta);
    let name = meta.name;
    if (!name && meta.generateName) name = meta.generateName + randomUUID().slice(0, 5);
    if (!name) throw invalid(t.kind, '', 'metadata.name: Required value: name or generateName is required');
    if (meta.namespace && t.namespaced && meta.namespace !== ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (this.objects.has(keyOf(t, ns, name))) throw alreadyExists(t.plural, t.group, name);
    const obj = structuredClone(body);
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    if (t.statusSubresource) delete obj.status;
    obj.metadata = {
      ...meta,
      name,
      ...(t.namespaced ? { namespace: ns } : {}),
      uid: randomUUID(),
      creationTimestamp: this.timestamp(),
      ...(t.generation ? { generation: 1 } : {}),
    };
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.resourceVersion;
    // Secrets: stringData is write-only and merged into data, as the real server does.
    if (t.plural === 'secrets' && isPlainObject(obj.stringData)) foldStringData(obj);
    validateObject(t, obj);
    return this.commit(t, ns, obj, 'ADDED');
  }

  /**
   * Replace an object (PUT semantics; patches are turned into a full object
   * first). A resourceVersion in the body is a precondition (409 on mismatch).
   */
  update(t: ResourceType, ns: string, name: string, body: KubeObject, opts: WriteOptions = {}): KubeObject {
    const old = this.objects.get(keyOf(t, ns, name));
    if (!old) throw notFound(t.plural, t.group, name);
    const rv = body.metadata?.resourceVersion;
    if (rv === undefined || rv === '') {
      if (t.requireResourceVersion) {
        throw invalid(
          t.kind,
          name,
          'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
        );
      }
    } else if (rv !== old.metadata.resourceVersion) {
      throw conflict(t.plural, t.group, name);
    }
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw badRequest('the name of the object does not match the name on the URL');
    }
    const next = opts.status ? this.statusUpdate(old, body) : this.mainUpdate(t, old, body);
    if (t.plural === 'secrets' && isPlainObject(next.stringData)) foldStringData(next);
    validateObject(t, next);
    if (jsonEqual(strip(next), strip(old))) return structuredClone(old);
    const oldFinalizers = old.metadata.finalizers ?? [];
    const added = (next.metadata.finalizers ?? []).filter((f) => !oldFinalizers.includes(f));
    if (old.metadata.deletionTimestamp && added.length > 0) {
      throw invalid(
        t.kind,
        name,
        'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted',
      );
    }
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      return this.remove(t, ns, next);
    }
    return this.commit(t, ns, next, 'MODIFIED');
  }

  /** Delete: with finalizers only marks deletionTimestamp; otherwise removes. */
  delete(t: ResourceType, ns: string, name: string): { object: KubeObject; removed: boolean } {
    const old = this.objects.get(keyOf(t, ns, name));
    if (!old) throw notFound(t.plural, t.group, name);
    if ((old.metadata.finalizers ?? []).length > 0) {
      if (old.metadata.deletionTimestamp) return { object: structuredClone(old), removed: false };
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = this.timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      return { object: this.commit(t, ns, next, 'MODIFIED'), removed: false };
    }
    return { object: this.remove(t, ns, structuredClone(old)), removed: true };
  }

  /**
   * Events of a type (and namespace, if given) after `fromRv`, oldest first,
   * or 'gone' when history no longer reaches back that far.
   */
  eventsSince(t: ResourceType, ns: string | undefined, fromRv: number): StoredEvent[] | 'gone' {
    if (fromRv < this.compactedThrough) return 'gone';
    return this.history.filter(
      (e) => e.rv > fromRv && e.resource === t && (ns === undefined || e.object.metadata.namespace === ns),
    );
  }

  /** Every committed event, synchronously, in resourceVersion order. Returns an unsubscribe function. */
  subscribe(fn: (e: StoredEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Drop all history (as an etcd compaction would): every watch from an older resourceVersion gets 410. */
  compact(): void {
    this.compactedThrough = this.rv;
    this.history.length = 0;
  }

  private mainUpdate(t: ResourceType, old: KubeObject, body: KubeObject): KubeObject {
    const next = structuredClone(body);
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    next.metadata = {
      ...next.metadata,
      name: old.metadata.name,
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      resourceVersion: old.metadata.resourceVersion,
    };
    if (old.metadata.namespace !== undefined) next.metadata.namespace = old.metadata.namespace;
    setOrDelete(next.metadata, 'deletionTimestamp', old.metadata.deletionTimestamp);
    setOrDelete(next.metadata, 'deletionGracePeriodSeconds', old.metadata.deletionGracePeriodSeconds);
    if (t.statusSubresource) setOrDelete(next, 'status', old.status);
    if (t.generation) {
      const changed = !jsonEqual(withoutMetaAndStatus(next), withoutMetaAndStatus(old));
      next.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
    }
    return next;
  }

  private statusUpdate(old: KubeObject, body: KubeObject): KubeObject {
    const next = structuredClone(old);
    setOrDelete(next, 'status', body.status);
    return next;
  }

  private remove(t: ResourceType, ns: string, obj: KubeObject): KubeObject {
    this.objects.delete(keyOf(t, ns, obj.metadata.name));
    return this.record(t, 'DELETED', obj);
  }

  private commit(t: ResourceType, ns: string, obj: KubeObject, type: EventType): KubeObject {
    if (!isPlainObject(obj.metadata)) throw badRequest('metadata must be an object');
    this.objects.set(keyOf(t, ns, obj.metadata.name), obj);
    return this.record(t, type, obj);
  }

  private record(t: ResourceType, type: EventType, obj: KubeObject): KubeObject {
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    const event: StoredEvent = { rv: this.rv, type, resource: t, object: structuredClone(obj) };
    this.history.push(event);
    while (this.history.length > this.maxHistory) {
      const dropped = this.history.shift();
      if (dropped) this.compactedThrough = dropped.rv;
    }
    for (const fn of this.listeners) fn(event);
    return structuredClone(obj);
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

function foldStringData(o: KubeObject): void {
  const data = { ...((o.data ?? {}) as Record<string, string>) };
  for (const [k, v] of Object.entries(o.stringData as Record<string, string>)) {
    data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  o.data = data;
  delete o.stringData;
}

function keyOf(t: ResourceType, ns: string, name: string): string {
  return `${t.plural}.${t.group}/${t.namespaced ? `${ns}/` : ''}${name}`;
}

function strip(o: KubeObject): unknown {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

function withoutMetaAndStatus(o: KubeObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

function setOrDelete(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = structuredClone(value);
}
