import type { Queryable } from '../db/database.ts';

/**
 * SQL that is true when no row references the sha256 hex in `column`: a
 * cached remote file, a file of a local remote, a hosted artifact, a blob or
 * manifest some registry repository holds, the config or a layer of a
 * manifest, or the expected content of an upload still in progress. Every
 * table that names a blob must be listed here; each lookup uses an index.
 */
export function unreferencedSql(column: string): string {
  return `NOT EXISTS (SELECT 1 FROM cache_entries WHERE digest = ${column})
    AND NOT EXISTS (SELECT 1 FROM local_files WHERE digest = ${column})
    AND NOT EXISTS (SELECT 1 FROM artifacts WHERE id = ${column})
    AND NOT EXISTS (SELECT 1 FROM registry_blobs WHERE digest = ${column})
    AND NOT EXISTS (SELECT 1 FROM registry_manifests WHERE digest = ${column})
    AND NOT EXISTS (SELECT 1 FROM registry_manifest_refs WHERE ref_digest = ${column} AND kind = 'blob')
    AND NOT EXISTS (SELECT 1 FROM upload_sessions
                    WHERE expected_hash = ${column} AND status IN ('pending', 'completing'))`;
}

/** Of `digests` (sha256 hex), those nothing references. */
export async function findUnreferenced(db: Queryable, digests: string[]): Promise<Set<string>> {
  if (digests.length === 0) return new Set();
  const { rows } = await db.query<{ digest: string }>(
    `SELECT d AS digest FROM unnest($1::text[]) AS d WHERE ${unreferencedSql('d')}`,
    [digests],
  );
  return new Set(rows.map((r) => r.digest));
}

/**
 * Take the blob off the collector's candidate list before reusing or writing
 * it. Waits while a collector holds the candidate's row lock (it is deleting
 * the blob right now), so afterwards the blob is either safe from this round
 * of collection or already gone, and a `stat` that follows tells which.
 */
export async function claimBlob(db: Queryable, digest: string): Promise<void> {
  await db.query('DELETE FROM gc_candidates WHERE digest = $1', [digest]);
}
