/** The operator's Prometheus metrics, registered on an injected prom-client Registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface OperatorMetrics {
  reconcileTotal: Counter<'kind' | 'result'>;
  reconcileDuration: Histogram<'kind'>;
  queueDepth: Gauge;
  watchRestarts: Counter<'kind' | 'reason'>;
  isLeader: Gauge;
  configWrites: Counter<'object'>;
}

export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  return {
    reconcileTotal: new Counter({
      name: 'orchard_operator_reconcile_total',
      help: 'Reconciles by kind and result (success, requeue, error, terminal).',
      labelNames: ['kind', 'result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'orchard_operator_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'orchard_operator_queue_depth',
      help: 'Keys waiting in the work queue.',
      registers,
    }),
    watchRestarts: new Counter({
      name: 'orchard_operator_watch_restarts_total',
      help: 'Watch restarts by kind and reason (gone, stall, error, closed, relist, list_error).',
      labelNames: ['kind', 'reason'],
      registers,
    }),
    isLeader: new Gauge({
      name: 'orchard_operator_leader',
      help: '1 while this replica holds the leader Lease.',
      registers,
    }),
    configWrites: new Counter({
      name: 'orchard_operator_config_writes_total',
      help: 'Writes of the rendered config objects (ConfigMap, Secret, hosts ConfigMap).',
      labelNames: ['object'],
      registers,
    }),
  };
}
