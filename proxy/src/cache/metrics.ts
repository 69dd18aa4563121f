import { Counter, Histogram, type Registry } from 'prom-client';

export type CacheResultLabel =
  | 'hit'
  | 'miss'
  | 'stale'
  | 'revalidated'
  | 'negative'
  | 'forbidden'
  | 'quarantined';

type Labels = { remote: string; package: string };

/**
 * The cache's metric families. Every family is labelled by remote and package
 * type, never by path or digest (cardinality). Created once per Registry: a
 * second CacheMetrics on the same registry reuses the families.
 */
export class CacheMetrics {
  readonly requests: Counter<'remote' | 'package' | 'result'>;
  readonly upstreamRequests: Counter<'remote' | 'package' | 'status'>;
  readonly upstreamBytes: Counter<'remote' | 'package'>;
  readonly servedBytes: Counter<'remote' | 'package'>;
  readonly followers: Counter<'remote' | 'package'>;
  readonly fillDuration: Histogram<'remote' | 'package'>;
  readonly integrityFailures: Counter<'remote' | 'package'>;

  constructor(registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter({ name, help, labelNames, registers: [registry] });
    const base: ('remote' | 'package')[] = ['remote', 'package'];
    this.requests = counter(
      'orchard_cache_requests_total',
      'Cache lookups by outcome: hit, miss, stale, revalidated, negative, forbidden, quarantined.',
      ['remote', 'package', 'result'],
    );
    this.upstreamRequests = counter(
      'orchard_upstream_requests_total',
      'Requests sent upstream, by HTTP status (or "error" when none arrived).',
      ['remote', 'package', 'status'],
    );
    this.upstreamBytes = counter('orchard_upstream_bytes_total', 'Body bytes received from upstreams.', base);
    this.servedBytes = counter(
      'orchard_served_bytes_total',
      'Body bytes sent to clients by the cache.',
      base,
    );
    this.followers = counter(
      'orchard_singleflight_followers_total',
      'Requests that joined a fill already in flight (this replica or another) instead of fetching.',
      base,
    );
    this.integrityFailures = counter(
      'orchard_integrity_failures_total',
      'Upstream bodies that did not match their published digest (nothing was cached).',
      base,
    );
    this.fillDuration =
      (registry.getSingleMetric('orchard_cache_fill_duration_seconds') as Histogram<'remote' | 'package'>) ??
      new Histogram({
        name: 'orchard_cache_fill_duration_seconds',
        help: 'From upstream request to committed cache entry.',
        labelNames: base,
        buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
        registers: [registry],
      });
  }

  private readonly children = new Map<string, { inc(n?: number): void }>();

  count(labels: Labels, result: CacheResultLabel): void {
    this.child(this.requests, 'r', labels.remote, labels.package, result).inc();
  }

  /** Bytes sent to a client (hot path: per chunk). */
  served(labels: Labels, n: number): void {
    this.child(this.servedBytes, 's', labels.remote, labels.package).inc(n);
  }

  /**
   * The labelled child of a family, memoized: prom-client hashes the label
   * object on every call otherwise, which shows on small warm hits. Label
   * values are remote names, package types and results: a bounded set.
   */
  private child(family: Counter<string>, tag: string, ...values: string[]): { inc(n?: number): void } {
    const key = `${tag}\u0000${values.join('\u0000')}`;
    let c = this.children.get(key);
    if (!c) {
      c = family.labels(...values);
      this.children.set(key, c);
    }
    return c;
  }
}

/**
 * Sum small increments (bytes per chunk) and report them in `step`-sized
 * lumps, so a hot path does not pay a labelled counter update per chunk;
 * `flush` reports the rest and must be called when the stream is over.
 */
export function batched(
  report: (n: number) => void,
  step = 1024 * 1024,
): { add(n: number): void; flush(): void } {
  let pending = 0;
  return {
    add(n) {
      pending += n;
      if (pending < step) return;
      report(pending);
      pending = 0;
    },
    flush() {
      if (pending === 0) return;
      report(pending);
      pending = 0;
    },
  };
}
