import type { Queryable } from '../../db/database.ts';
import type { ArtifactRow } from './rows.ts';

export interface NewArtifact {
  id: string;
  size: number;
  contentType: string | null;
  originalName: string | null;
  formatMetadata: Record<string, unknown>;
  createdBy: string;
}

/**
 * Insert the artifact row unless it exists. `created` is false when another
 * upload (this one's twin, possibly concurrent) got there first: the upload
 * is then deduplicated and the stored row, with its metadata, is returned.
 */
export async function insertArtifact(
  tx: Queryable,
  a: NewArtifact,
): Promise<{ artifact: ArtifactRow; created: boolean }> {
  // On conflict, a no-op update: it locks the existing row for this transaction, so garbage
  // collection (which skips locked rows) cannot delete an orphaned artifact this upload reuses.
  const { rows } = await tx.query<ArtifactRow & { inserted: boolean }>(
    `INSERT INTO artifacts (id, size, content_type, original_name, format_metadata, created_by)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6)
     ON CONFLICT (id) DO UPDATE SET id = artifacts.id
     RETURNING *, (xmax = 0) AS inserted`,
    [a.id, a.size, a.contentType, a.originalName, JSON.stringify(a.formatMetadata), a.createdBy],
  );
  const { inserted, ...artifact } = rows[0]!;
  return { artifact: artifact as ArtifactRow, created: inserted };
}

export async function getArtifact(db: Queryable, id: string): Promise<ArtifactRow | undefined> {
  const { rows } = await db.query<ArtifactRow>('SELECT * FROM artifacts WHERE id = $1', [id]);
  return rows[0];
}

/** True when the artifact was uploaded to the package or a tag of the package points at it. */
export async function artifactInPackage(
  db: Queryable,
  packageId: string,
  artifactId: string,
): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM uploads WHERE package_id = $1 AND artifact_id = $2
     UNION ALL SELECT 1 FROM tags WHERE package_id = $1 AND artifact_id = $2 LIMIT 1`,
    [packageId, artifactId],
  );
  return rows.length > 0;
}

export interface UploadRecord {
  artifactId: string;
  packageId: string;
  originalName: string | null;
  size: number;
  tag: string | null;
  uploadedBy: string;
  deduplicated: boolean;
  sourceIp: string | null;
}

export async function recordUpload(tx: Queryable, u: UploadRecord): Promise<void> {
  await tx.query(
    `INSERT INTO uploads (artifact_id, package_id, original_name, size, tag, uploaded_by, deduplicated, source_ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [u.artifactId, u.packageId, u.originalName, u.size, u.tag, u.uploadedBy, u.deduplicated, u.sourceIp],
  );
}

export interface AuditEntry {
  action: string;
  resource: string;
  subject: string;
  details?: Record<string, unknown>;
  sourceIp?: string | null;
}

export async function audit(tx: Queryable, e: AuditEntry): Promise<void> {
  await tx.query(
    'INSERT INTO audit_logs (action, resource, subject, details, source_ip) VALUES ($1, $2, $3, $4::jsonb, $5)',
    [e.action, e.resource, e.subject, JSON.stringify(e.details ?? {}), e.sourceIp ?? null],
  );
}

export interface ArtifactReference {
  project: string;
  package: string;
  tags: string[];
  uploads: number;
}

/** Every package the artifact was uploaded to or is tagged in, with its tag names there. */
export async function artifactReferences(db: Queryable, artifactId: string): Promise<ArtifactReference[]> {
  const { rows } = await db.query<{
    project: string;
    package: string;
    tags: string[] | null;
    uploads: number;
  }>(
    `SELECT pr.name AS project, p.name AS package,
            (SELECT array_agg(t.name ORDER BY t.name) FROM tags t WHERE t.package_id = p.id AND t.artifact_id = $1) AS tags,
            (SELECT count(*)::int FROM uploads u WHERE u.package_id = p.id AND u.artifact_id = $1) AS uploads
       FROM packages p JOIN projects pr ON pr.id = p.project_id
      WHERE p.id IN (SELECT package_id FROM uploads WHERE artifact_id = $1
                     UNION SELECT package_id FROM tags WHERE artifact_id = $1)
      ORDER BY pr.name, p.name`,
    [artifactId],
  );
  return rows.map((r) => ({
    project: r.project,
    package: r.package,
    tags: r.tags ?? [],
    uploads: r.uploads,
  }));
}
