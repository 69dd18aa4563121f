import type { RegistryDeps } from '../context.ts';
import { deleteChunks } from './chunks.ts';

const sweepEveryMs = 10 * 60_000;
const lastSweep = new WeakMap<RegistryDeps, number>();

/**
 * Remove upload sessions idle for longer than `deps.uploadIdleMs`, with their
 * chunks. Runs at most every ten minutes per process, piggybacking on new
 * uploads so no timer has to be owned and stopped. Replicas may sweep the
 * same session concurrently: only the one whose delete succeeds drops chunks.
 */
export async function sweepStaleUploads(deps: RegistryDeps, opts: { force?: boolean } = {}): Promise<number> {
  const now = deps.clock.now();
  if (!opts.force && now - (lastSweep.get(deps) ?? 0) < sweepEveryMs) return 0;
  lastSweep.set(deps, now);
  const stale = await deps.uploads.listStale(new Date(now - deps.uploadIdleMs));
  let removed = 0;
  for (const session of stale) {
    if (!(await deps.uploads.delete(session.id))) continue;
    await deleteChunks(deps.blobs, session.id, session.chunks);
    removed++;
  }
  if (removed > 0) deps.logger.info('removed idle blob upload sessions', { count: removed });
  return removed;
}
