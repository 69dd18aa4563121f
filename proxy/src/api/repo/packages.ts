import type { Queryable } from '../../db/database.ts';
import { ApiError } from '../../http/errors.ts';
import { requireProject } from './projects.ts';
import {
  isUniqueViolation,
  likeEscape,
  type PackageRow,
  type PackageStatsRow,
  type ProjectRow,
} from './rows.ts';

export interface NewPackage {
  projectId: string;
  name: string;
  description: string | null;
  format: string;
  platform: string;
}

/** Insert a package; CONFLICT (409) when the project already has one of that name. */
export async function insertPackage(db: Queryable, p: NewPackage): Promise<PackageRow> {
  try {
    const { rows } = await db.query<PackageRow>(
      `INSERT INTO packages (project_id, name, description, format, platform)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [p.projectId, p.name, p.description, p.format, p.platform],
    );
    return rows[0];
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ApiError('CONFLICT', `package ${p.name} already exists in this project`);
    throw err;
  }
}

export interface PackageRef {
  project: ProjectRow;
  pkg: PackageRow;
}

/** Project and package by name; NOT_FOUND (404) naming whichever is missing. */
export async function requirePackage(db: Queryable, project: string, pkg: string): Promise<PackageRef> {
  const pr = await requireProject(db, project);
  const { rows } = await db.query<PackageRow>('SELECT * FROM packages WHERE project_id = $1 AND name = $2', [
    pr.id,
    pkg,
  ]);
  if (!rows[0]) throw new ApiError('NOT_FOUND', `package ${pkg} not found in project ${project}`);
  return { project: pr, pkg: rows[0] };
}

/** Bump `updated_at` after an upload or a tag change, so `sort=updated_at` reflects activity. */
export async function touchPackage(db: Queryable, packageId: string): Promise<void> {
  await db.query('UPDATE packages SET updated_at = now() WHERE id = $1', [packageId]);
}

// Artifacts of a package: those uploaded to it and those its tags point at.
const packageArtifacts = `(SELECT artifact_id FROM uploads WHERE package_id = p.id
                           UNION SELECT artifact_id FROM tags WHERE package_id = p.id)`;

const statsColumns = `p.*,
  (SELECT count(*)::int FROM tags t WHERE t.package_id = p.id) AS tag_count,
  (SELECT count(*)::int FROM ${packageArtifacts} r) AS artifact_count,
  (SELECT coalesce(sum(a.size), 0)::bigint FROM artifacts a WHERE a.id IN ${packageArtifacts}) AS total_size,
  (SELECT t.name FROM tags t WHERE t.package_id = p.id ORDER BY t.created_at DESC, t.name DESC LIMIT 1) AS latest_tag,
  (SELECT max(u.uploaded_at) FROM uploads u WHERE u.package_id = p.id) AS latest_upload_at`;

export interface PackageQuery {
  projectId: string;
  search?: string;
  format?: string;
  platform?: string;
  sort: 'name' | 'created_at' | 'updated_at';
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/** One page of a project's packages with their aggregates, and the total matching the filters. */
export async function listPackages(
  db: Queryable,
  q: PackageQuery,
): Promise<{ rows: PackageStatsRow[]; total: number }> {
  const params: unknown[] = [q.projectId];
  const where = ['p.project_id = $1'];
  if (q.search) {
    params.push(`%${likeEscape(q.search)}%`);
    where.push(`(p.name ILIKE $${params.length} OR p.description ILIKE $${params.length})`);
  }
  if (q.format) {
    params.push(q.format);
    where.push(`p.format = $${params.length}`);
  }
  if (q.platform) {
    params.push(q.platform);
    where.push(`p.platform = $${params.length}`);
  }
  const filter = where.join(' AND ');
  const total = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM packages p WHERE ${filter}`,
    params,
  );
  // sort and order come from a whitelist (see parseListQuery), never from raw input.
  const { rows } = await db.query<PackageStatsRow>(
    `SELECT ${statsColumns} FROM packages p WHERE ${filter}
      ORDER BY p.${q.sort} ${q.order}, p.name ASC
      LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, q.limit, q.offset],
  );
  return { rows, total: total.rows[0].n };
}

/** One package with its aggregates. */
export async function packageStats(db: Queryable, packageId: string): Promise<PackageStatsRow> {
  const { rows } = await db.query<PackageStatsRow>(`SELECT ${statsColumns} FROM packages p WHERE p.id = $1`, [
    packageId,
  ]);
  return rows[0];
}

export interface PendingSession {
  id: string;
  blob_key: string;
  multipart_upload_id: string | null;
  [k: string]: unknown;
}

export interface DeleteSummary {
  packages_deleted: number;
  tags_deleted: number;
  artifacts_released: number;
  /** Multipart sessions the caller must abort in the blob store once the transaction commits. */
  sessions: PendingSession[];
}

/**
 * Delete packages (by id) and everything under them, inside `tx`. Tags are
 * released first (ref counts decremented); tags, history, uploads, consumers
 * and upload sessions go by cascade. Artifacts and their blobs stay: an
 * artifact whose ref_count reaches 0 and has no uploads left is garbage for
 * GC, which must also check the cache tables because blobs are shared.
 */
export async function deletePackages(tx: Queryable, packageIds: string[]): Promise<DeleteSummary> {
  if (packageIds.length === 0)
    return { packages_deleted: 0, tags_deleted: 0, artifacts_released: 0, sessions: [] };
  const released = await tx.query<{ id: string }>(
    `UPDATE artifacts a SET ref_count = greatest(a.ref_count - c.n, 0)
       FROM (SELECT artifact_id, count(*)::int AS n FROM tags WHERE package_id = ANY($1::uuid[]) GROUP BY artifact_id) c
      WHERE a.id = c.artifact_id RETURNING a.id`,
    [packageIds],
  );
  const tags = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM tags WHERE package_id = ANY($1::uuid[])',
    [packageIds],
  );
  const sessions = await tx.query<PendingSession>(
    `SELECT id, blob_key, multipart_upload_id FROM upload_sessions
      WHERE package_id = ANY($1::uuid[]) AND status IN ('pending', 'completing')`,
    [packageIds],
  );
  const deleted = await tx.query('DELETE FROM packages WHERE id = ANY($1::uuid[])', [packageIds]);
  return {
    packages_deleted: deleted.rowCount,
    tags_deleted: tags.rows[0].n,
    artifacts_released: released.rowCount,
    sessions: sessions.rows,
  };
}
