import { Counter, type Registry } from 'prom-client';

/**
 * Registry metrics. Labels stay low-cardinality: remote, routing mode and
 * operation kind, never a repository, tag or digest.
 */
export interface RegistryMetrics {
  /** Requests by remote, mode (`remote`|`mirror`), operation and result status class. */
  requests: Counter<'remote' | 'mode' | 'operation' | 'status'>;
  /** Upstream token fetches by remote and outcome (`ok`|`error`|`denied`). */
  tokenFetches: Counter<'remote' | 'result'>;
  /** Bytes accepted by blob uploads to hosted repositories. */
  uploadedBytes: Counter<'remote'>;
}

export function createRegistryMetrics(registry: Registry): RegistryMetrics {
  const existing = registry.getSingleMetric('orchard_registry_requests_total');
  if (existing) {
    // Another route module instance on the same registry (tests mount twice): share the families.
    return {
      requests: existing as RegistryMetrics['requests'],
      tokenFetches: registry.getSingleMetric(
        'orchard_registry_token_fetches_total',
      ) as RegistryMetrics['tokenFetches'],
      uploadedBytes: registry.getSingleMetric(
        'orchard_registry_uploaded_bytes_total',
      ) as RegistryMetrics['uploadedBytes'],
    };
  }
  return {
    requests: new Counter({
      name: 'orchard_registry_requests_total',
      help: 'Registry (/v2/) requests by remote, routing mode (remote or mirror), operation and status.',
      labelNames: ['remote', 'mode', 'operation', 'status'],
      registers: [registry],
    }),
    tokenFetches: new Counter({
      name: 'orchard_registry_token_fetches_total',
      help: 'Bearer token requests to upstream token endpoints, by remote and result.',
      labelNames: ['remote', 'result'],
      registers: [registry],
    }),
    uploadedBytes: new Counter({
      name: 'orchard_registry_uploaded_bytes_total',
      help: 'Bytes received by blob uploads to hosted docker repositories.',
      labelNames: ['remote'],
      registers: [registry],
    }),
  };
}
