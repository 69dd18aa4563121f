import type { Queryable } from '../../db/database.ts';
import { ApiError } from '../../http/errors.ts';
import { isUniqueViolation, likeEscape, type ProjectRow } from './rows.ts';

export interface NewProject {
  name: string;
  description: string | null;
  isPublic: boolean;
  createdBy: string;
}

/** Insert a project; CONFLICT (409) when the name is taken. */
export async function insertProject(db: Queryable, p: NewProject): Promise<ProjectRow> {
  try {
    const { rows } = await db.query<ProjectRow>(
      `INSERT INTO projects (name, description, is_public, created_by) VALUES ($1, $2, $3, $4) RETURNING *`,
      [p.name, p.description, p.isPublic, p.createdBy],
    );
    return rows[0];
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiError('CONFLICT', `project ${p.name} already exists`);
    throw err;
  }
}

/** The project, or NOT_FOUND (404). */
export async function requireProject(db: Queryable, name: string): Promise<ProjectRow> {
  const { rows } = await db.query<ProjectRow>('SELECT * FROM projects WHERE name = $1', [name]);
  if (!rows[0]) throw new ApiError('NOT_FOUND', `project ${name} not found`);
  return rows[0];
}

export interface ProjectQuery {
  search?: string;
  limit: number;
  offset: number;
}

/** Projects by name, with the total before paging. */
export async function listProjects(
  db: Queryable,
  q: ProjectQuery,
): Promise<{ rows: ProjectRow[]; total: number }> {
  const where = q.search ? `WHERE name ILIKE $1 OR description ILIKE $1` : '';
  const params: unknown[] = q.search ? [`%${likeEscape(q.search)}%`] : [];
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM projects ${where}`, params);
  const { rows } = await db.query<ProjectRow>(
    `SELECT * FROM projects ${where} ORDER BY name LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, q.limit, q.offset],
  );
  return { rows, total: total.rows[0].n };
}
