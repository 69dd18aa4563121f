/** Argument checks and conventions shared by every Coordinator implementation. */

/** A TTL in whole ms (rounded up); 0 = no expiry. Throws RangeError on a negative or non-finite value. */
export function checkTtl(ttlMs: number | undefined): number {
  if (ttlMs === undefined) return 0;
  if (!Number.isFinite(ttlMs) || ttlMs < 0)
    throw new RangeError(`ttlMs must be a finite number >= 0, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

/** A lease in whole ms (rounded up). Throws RangeError unless positive and finite. */
export function checkLease(leaseMs: number): number {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0)
    throw new RangeError(`leaseMs must be a finite number > 0, got ${leaseMs}`);
  return Math.ceil(leaseMs);
}

/**
 * Fencing tokens start from the wall clock (ms × 1000) whenever the counter is
 * new, i.e. on first use or after the backend lost its state. Tokens then
 * still exceed any a store recorded before the loss, as long as fewer than a
 * million locks per second were taken on average in between. The value stays
 * below 2^53 until the year 2255.
 */
export function firstFencingToken(nowMs: number): number {
  return Math.floor(nowMs) * 1000;
}
