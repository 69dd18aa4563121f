import type { Queryable } from '../../db/database.ts';
import { likeEscape, type TagRow } from './rows.ts';

export interface TagChange {
  tag: TagRow;
  /** The artifact the tag pointed at before, or null for a new tag. */
  previous: string | null;
  /** False when the tag already pointed at this artifact (no history row, no ref count change). */
  changed: boolean;
}

/**
 * Create or move tag `name` of a package to `artifactId`, inside `tx`.
 * Writes a tag_history row (old → new, who) and keeps artifacts.ref_count in
 * step. The existing row is locked, so concurrent moves of one tag serialise;
 * two concurrent creates meet on the unique key and the later one becomes a move.
 * The caller checks the artifact exists.
 */
export async function setTag(
  tx: Queryable,
  t: { packageId: string; name: string; artifactId: string; actor: string },
): Promise<TagChange> {
  for (let attempt = 0; ; attempt++) {
    const current = await tx.query<TagRow>(
      'SELECT * FROM tags WHERE package_id = $1 AND name = $2 FOR UPDATE',
      [t.packageId, t.name],
    );
    const existing = current.rows[0];
    if (existing) {
      if (existing.artifact_id === t.artifactId)
        return { tag: existing, previous: existing.artifact_id, changed: false };
      const { rows } = await tx.query<TagRow>(
        'UPDATE tags SET artifact_id = $2, updated_at = now() WHERE id = $1 RETURNING *',
        [existing.id, t.artifactId],
      );
      await adjustRefs(tx, existing.artifact_id, t.artifactId);
      await history(tx, existing.id, existing.artifact_id, t.artifactId, t.actor);
      return { tag: rows[0], previous: existing.artifact_id, changed: true };
    }
    // ON CONFLICT waits for a concurrent creator to commit; we then loop and move its tag instead.
    const { rows } = await tx.query<TagRow>(
      `INSERT INTO tags (package_id, name, artifact_id, created_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (package_id, name) DO NOTHING RETURNING *`,
      [t.packageId, t.name, t.artifactId, t.actor],
    );
    if (rows[0]) {
      await adjustRefs(tx, null, t.artifactId);
      await history(tx, rows[0].id, null, t.artifactId, t.actor);
      return { tag: rows[0], previous: null, changed: true };
    }
    if (attempt >= 3) throw new Error(`tag ${t.name} keeps changing concurrently`);
  }
}

async function adjustRefs(tx: Queryable, from: string | null, to: string): Promise<void> {
  if (from)
    await tx.query('UPDATE artifacts SET ref_count = greatest(ref_count - 1, 0) WHERE id = $1', [from]);
  await tx.query('UPDATE artifacts SET ref_count = ref_count + 1 WHERE id = $1', [to]);
}

async function history(
  tx: Queryable,
  tagId: string,
  from: string | null,
  to: string,
  actor: string,
): Promise<void> {
  await tx.query(
    'INSERT INTO tag_history (tag_id, old_artifact_id, new_artifact_id, changed_by) VALUES ($1, $2, $3, $4)',
    [tagId, from, to, actor],
  );
}

export async function getTag(db: Queryable, packageId: string, name: string): Promise<TagRow | undefined> {
  const { rows } = await db.query<TagRow>('SELECT * FROM tags WHERE package_id = $1 AND name = $2', [
    packageId,
    name,
  ]);
  return rows[0];
}

export interface TagQuery {
  search?: string;
  limit: number;
  offset: number;
}

/** Tags of a package, newest first, with the artifact's size and type for listings. */
export async function listTags(
  db: Queryable,
  packageId: string,
  q: TagQuery,
): Promise<{
  rows: (TagRow & { size: number; content_type: string | null; original_name: string | null })[];
  total: number;
}> {
  const params: unknown[] = [packageId];
  let filter = 't.package_id = $1';
  if (q.search) {
    params.push(`%${likeEscape(q.search)}%`);
    filter += ` AND t.name ILIKE $${params.length}`;
  }
  const total = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM tags t WHERE ${filter}`,
    params,
  );
  const { rows } = await db.query<
    TagRow & { size: number; content_type: string | null; original_name: string | null }
  >(
    `SELECT t.*, a.size, a.content_type, a.original_name FROM tags t JOIN artifacts a ON a.id = t.artifact_id
      WHERE ${filter} ORDER BY t.created_at DESC, t.name ASC
      LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, q.limit, q.offset],
  );
  return { rows, total: total.rows[0].n };
}

/** The last `n` tags of a package by creation time. */
export async function recentTags(db: Queryable, packageId: string, n: number): Promise<TagRow[]> {
  const { rows } = await db.query<TagRow>(
    'SELECT * FROM tags WHERE package_id = $1 ORDER BY created_at DESC, name DESC LIMIT $2',
    [packageId, n],
  );
  return rows;
}

export interface TagHistoryRow {
  id: string;
  tag_id: string;
  old_artifact_id: string | null;
  new_artifact_id: string;
  changed_by: string;
  changed_at: Date;
  [k: string]: unknown;
}

export async function tagHistory(db: Queryable, tagId: string): Promise<TagHistoryRow[]> {
  const { rows } = await db.query<TagHistoryRow>(
    'SELECT * FROM tag_history WHERE tag_id = $1 ORDER BY changed_at DESC, id DESC',
    [tagId],
  );
  return rows;
}
