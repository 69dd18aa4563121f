import type { RemoteConfig } from '../config/index.ts';
import { ApiError } from '../http/errors.ts';
import { isQuarantineExempt } from './classify.ts';

const dayMs = 24 * 60 * 60 * 1000;

/**
 * Quarantine (supply-chain protection): immutable artifacts published less
 * than `quarantine.days` ago are refused with 404 until they are that old.
 * The publish date comes from the format (index hints), else the upstream's
 * Last-Modified; an unknown date lets the artifact through (fail open, as the
 * seed does). Mutable files and `exemptPatterns` are never quarantined.
 */

/** Epoch ms at which an artifact published at `publishedAt` leaves quarantine (0 when quarantine is off). */
export function quarantineRelease(remote: RemoteConfig, publishedAt: Date): number {
  if (!remote.quarantine || remote.quarantine.days <= 0) return 0;
  return publishedAt.getTime() + remote.quarantine.days * dayMs;
}

/** Whether quarantine applies to an immutable path of this remote at all. */
export function quarantineApplies(remote: RemoteConfig, path: string): boolean {
  return !!remote.quarantine && remote.quarantine.days > 0 && !isQuarantineExempt(remote, path);
}

/** Whether the artifact is still in quarantine at `now`. Unknown dates are not. */
export function isQuarantined(
  remote: RemoteConfig,
  path: string,
  publishedAt: Date | undefined,
  now: number,
): boolean {
  return !!publishedAt && quarantineApplies(remote, path) && quarantineRelease(remote, publishedAt) > now;
}

/** The 404 a quarantined artifact gets, explaining when it will be released. */
export function quarantineError(remote: RemoteConfig, path: string, publishedAt: Date): ApiError {
  const release = new Date(quarantineRelease(remote, publishedAt));
  return new ApiError(
    'QUARANTINED',
    `${path} was published at ${publishedAt.toISOString()}; remote ${remote.name} quarantines new artifacts for ${remote.quarantine?.days} days, so it is available from ${release.toISOString()}`,
    {
      detail: {
        remote: remote.name,
        path,
        published_at: publishedAt.toISOString(),
        quarantine_days: remote.quarantine?.days,
        available_at: release.toISOString(),
      },
    },
  );
}
