import type { Queryable } from '../../db/database.ts';

export type SessionStatus = 'pending' | 'completing' | 'completed' | 'aborted' | 'expired';

export interface SessionRow {
  id: string;
  project_id: string;
  package_id: string;
  blob_key: string;
  multipart_upload_id: string | null;
  expected_hash: string;
  filename: string | null;
  content_type: string | null;
  size: number;
  tag: string | null;
  status: SessionStatus;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
  [k: string]: unknown;
}

export interface PartRow {
  part_number: number;
  size: number;
  etag: string;
  received_at: Date;
  [k: string]: unknown;
}

export type NewSession = Omit<SessionRow, 'status' | 'created_at' | 'updated_at'>;

export async function insertSession(db: Queryable, s: NewSession): Promise<SessionRow> {
  const { rows } = await db.query<SessionRow>(
    `INSERT INTO upload_sessions (id, project_id, package_id, blob_key, multipart_upload_id, expected_hash,
                                  filename, content_type, size, tag, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
    [
      s.id,
      s.project_id,
      s.package_id,
      s.blob_key,
      s.multipart_upload_id,
      s.expected_hash,
      s.filename,
      s.content_type,
      s.size,
      s.tag,
      s.created_by,
      s.expires_at,
    ],
  );
  return rows[0];
}

/** The session of this package, or undefined (a session id from another package is not found). */
export async function getSession(
  db: Queryable,
  id: string,
  packageId: string,
): Promise<SessionRow | undefined> {
  const { rows } = await db.query<SessionRow>(
    'SELECT * FROM upload_sessions WHERE id = $1 AND package_id = $2',
    [id, packageId],
  );
  return rows[0];
}

/**
 * Move a session from one status to another, atomically: only one caller of
 * many concurrent ones (complete vs abort vs sweeper, on any replica) wins.
 * Returns the updated row, or undefined when the session was not in `from`.
 */
export async function transition(
  db: Queryable,
  id: string,
  from: SessionStatus[],
  to: SessionStatus,
  expiresAt?: Date,
): Promise<SessionRow | undefined> {
  const { rows } = await db.query<SessionRow>(
    `UPDATE upload_sessions SET status = $3, updated_at = now(), expires_at = coalesce($4, expires_at)
      WHERE id = $1 AND status = ANY($2::text[]) RETURNING *`,
    [id, from, to, expiresAt ?? null],
  );
  return rows[0];
}

/** Record (or replace, on retry) a received part and slide the session's expiry. */
export async function recordPart(
  db: Queryable,
  p: { sessionId: string; partNumber: number; size: number; etag: string; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO upload_parts (session_id, part_number, size, etag) VALUES ($1, $2, $3, $4)
     ON CONFLICT (session_id, part_number) DO UPDATE SET size = EXCLUDED.size, etag = EXCLUDED.etag, received_at = now()`,
    [p.sessionId, p.partNumber, p.size, p.etag],
  );
  await db.query(
    `UPDATE upload_sessions SET expires_at = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`,
    [p.sessionId, p.expiresAt],
  );
}

export async function listSessionParts(db: Queryable, sessionId: string): Promise<PartRow[]> {
  const { rows } = await db.query<PartRow>(
    'SELECT part_number, size, etag, received_at FROM upload_parts WHERE session_id = $1 ORDER BY part_number',
    [sessionId],
  );
  return rows;
}

/**
 * Claim up to `limit` sessions that are past their expiry (pending ones the
 * client abandoned, or completing ones whose replica died) by marking them
 * expired. SKIP LOCKED lets sweepers on several replicas share the work.
 */
export async function expireSessions(db: Queryable, now: Date, limit = 100): Promise<SessionRow[]> {
  const { rows } = await db.query<SessionRow>(
    `UPDATE upload_sessions SET status = 'expired', updated_at = now()
      WHERE id IN (SELECT id FROM upload_sessions
                    WHERE status IN ('pending', 'completing') AND expires_at < $1
                    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING *`,
    [now, limit],
  );
  return rows;
}
