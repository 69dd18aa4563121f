/**
 * EventRecorder: core/v1 Events about Orchard resources, in the operator's
 * namespace (the resources are cluster-scoped; `kubectl describe` finds the
 * Events of a cluster-scoped object in any namespace by involvedObject).
 *
 * Repeats of the same (object, type, reason, message) within 10 minutes
 * bump `count` and `lastTimestamp` of the existing Event, as client-go's
 * recorder does. Recording is best effort: failures are logged, never thrown.
 * Messages must not carry secrets (callers pass condition messages, which
 * name Secrets but never hold their values).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../proxy/src/http/logger.ts';
import type { KubeClient } from './kube/client.ts';
import { describeError } from './kube/errors.ts';
import type { KubeObject, ResourceKind } from './kube/resources.ts';
import { kubeTime } from './reconcile/conditions.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

const EventKind: ResourceKind = {
  group: '',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
};
const aggregateWindowMs = 10 * 60_000;

export function createEventRecorder(opts: {
  client: KubeClient;
  namespace: string;
  instance: string;
  logger: Logger;
  now?: () => number;
}): EventRecorder {
  const now = opts.now ?? Date.now;
  const seen = new Map<string, { name: string; count: number; at: number }>();
  return {
    async record(obj, type, reason, message) {
      const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
      const t = now();
      const prev = seen.get(key);
      try {
        if (prev && t - prev.at < aggregateWindowMs) {
          prev.count += 1;
          prev.at = t;
          await opts.client.mergePatch(
            EventKind,
            prev.name,
            { count: prev.count, lastTimestamp: kubeTime(t) },
            { namespace: opts.namespace },
          );
          return;
        }
        const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
        await opts.client.create(EventKind, {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: opts.namespace },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: obj.metadata.name,
            uid: obj.metadata.uid,
            resourceVersion: obj.metadata.resourceVersion,
          },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: kubeTime(t),
          lastTimestamp: kubeTime(t),
          source: { component: 'orchard-operator' },
          reportingComponent: 'orchard.dev/operator',
          reportingInstance: opts.instance,
        });
        seen.set(key, { name, count: 1, at: t });
        if (seen.size > 5000) seen.delete(seen.keys().next().value as string);
      } catch (err) {
        seen.delete(key);
        opts.logger.warn('recording an event failed', {
          reason,
          object: obj.metadata.name,
          error: describeError(err),
        });
      }
    },
  };
}
