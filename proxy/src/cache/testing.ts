import type { RemoteConfig } from '../config/index.ts';

/** Options for `makeRemote`: pattern lists are strings, compiled the way the config loader compiles them. */
export interface RemoteOverrides
  extends Partial<Omit<RemoteConfig, 'immutablePatterns' | 'mutablePatterns' | 'quarantine'>> {
  immutablePatterns?: string[];
  mutablePatterns?: string[];
  quarantine?: { days: number; exemptPatterns?: string[] };
}

/**
 * A `RemoteConfig` for tests, with the config model's defaults (generic,
 * no patterns, immutableTtl 0, mutableTtl 3600, negativeTtl 60, stale on
 * network errors). Production code gets remotes from the loaded config only.
 */
export function makeRemote(name: string, o: RemoteOverrides = {}): RemoteConfig {
  const imm = o.immutablePatterns ?? [];
  const mut = o.mutablePatterns ?? [];
  return {
    name,
    type: o.type ?? 'remote',
    package: o.package ?? 'generic',
    baseUrl: o.type === 'local' ? undefined : (o.baseUrl ?? 'http://127.0.0.1:9/'),
    description: o.description ?? '',
    immutablePatterns: imm.map((p) => new RegExp(p)),
    mutablePatterns: mut.map((p) => new RegExp(p)),
    immutablePatternSources: imm,
    mutablePatternSources: mut,
    checkMutableUpdates: o.checkMutableUpdates ?? false,
    cache: o.cache ?? { immutableTtl: 0, mutableTtl: 3600, negativeTtl: 60 },
    quarantine: o.quarantine
      ? {
          days: o.quarantine.days,
          exemptPatterns: (o.quarantine.exemptPatterns ?? []).map((p) => new RegExp(p)),
          exemptPatternSources: o.quarantine.exemptPatterns ?? [],
        }
      : undefined,
    staleOnError: o.staleOnError ?? ['network'],
    mirrorOf: o.mirrorOf ?? [],
    options: o.options ?? {},
    hasCredentials: o.hasCredentials ?? false,
  };
}
