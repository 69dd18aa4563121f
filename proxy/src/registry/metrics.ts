import { Counter, type Registry } from 'prom-client';

/**
 * Registry metrics. Labels stay low-cardinality: remote, routing mode and
 * operation kind, never a repository, tag or digest.
 */
export interface RegistryMetrics {
  /** Requests by remote, mode (`remote`|`mirror`), operation and result status class. */
  requests: Counter<'remote' | 'mode' | 'operation' | 'status'>;
  /** Bytes accepted by blob uploads to hosted repositories. */
  uploadedBytes: Counter<'remote'>;
}

export function createRegistryMetrics(registry: Registry): RegistryMetrics {
  const existing = registry.getSingleMetric('orchard_registry_requests_total');
  if (existing) {
    // Another route module instance on the same registry (tests mount twice): share the families.
    return {
      requests: existing as RegistryMetrics['requests'],
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
    uploadedBytes: new Counter({
      name: 'orchard_registry_uploaded_bytes_total',
      help: 'Bytes received by blob uploads to hosted docker repositories.',
      labelNames: ['remote'],
      registers: [registry],
    }),
  };
}
