import type { HostedDeps } from './context.ts';
import { TEMP_PREFIX } from './ingest.ts';
import type { PendingSession } from './repo/packages.ts';

/**
 * Abort the blob-store side of sessions whose rows are gone or expired.
 * Failures are logged, not thrown: the sessions are unreachable already and
 * a later sweep or GC removes what is left.
 */
export async function abortSessions(deps: HostedDeps, sessions: PendingSession[]): Promise<void> {
  for (const s of sessions) {
    try {
      if (s.multipart_upload_id) await deps.blobs.abortMultipart(s.blob_key, s.multipart_upload_id);
      // A session that died while completing may have left its assembled object.
      await deps.blobs.delete(s.blob_key);
    } catch (err) {
      deps.logger.warn('could not abort upload session', { session: s.id, error: (err as Error).message });
    }
  }
}

/** Delete temporary upload objects older than `maxAgeMs` (left by crashes mid-upload). Returns how many. */
export async function sweepTempObjects(deps: HostedDeps, now: number, maxAgeMs: number): Promise<number> {
  let removed = 0;
  for await (const obj of deps.blobs.list(TEMP_PREFIX)) {
    if (now - obj.lastModified.getTime() < maxAgeMs) continue;
    await deps.blobs.delete(obj.key);
    removed++;
  }
  return removed;
}
