import type { Database, Queryable } from '../../db/database.ts';

/** A manifest held by a hosted repository. Its bytes are the blob `blobKey(digest)`. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  /** sha256 hex of the manifest its `subject` names. */
  subject?: string;
  annotations?: Record<string, string>;
}

export interface ManifestRef {
  digest: string;
  kind: 'blob' | 'manifest';
}

interface ManifestRow extends Record<string, unknown> {
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
}

const manifestColumns = 'digest, media_type, size, artifact_type, subject, annotations';

/**
 * The metadata of hosted OCI repositories (`registry_*` tables): which blobs,
 * manifests and tags each (remote, repository) holds. Bytes are elsewhere (the
 * content-addressed BlobStore). A repository exists while it holds anything.
 * Every method is safe to call concurrently; `putManifest` is one transaction.
 */
export class RegistryStore {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  /** Record that the repository holds a blob. Idempotent. */
  async linkBlob(remote: string, repository: string, digest: string, size: number): Promise<void> {
    await this.db.query(
      `INSERT INTO registry_blobs (remote, repository, digest, size) VALUES ($1, $2, $3, $4)
       ON CONFLICT (remote, repository, digest) DO NOTHING`,
      [remote, repository, digest, size],
    );
  }

  /** The blob's size when the repository holds it, else `undefined`. */
  async blobSize(remote: string, repository: string, digest: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ size: number }>(
      'SELECT size FROM registry_blobs WHERE remote = $1 AND repository = $2 AND digest = $3',
      [remote, repository, digest],
    );
    return rows[0] ? Number(rows[0].size) : undefined;
  }

  /** Forget a blob in one repository (its bytes stay for other holders and GC). Returns whether it was held. */
  async unlinkBlob(remote: string, repository: string, digest: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'DELETE FROM registry_blobs WHERE remote = $1 AND repository = $2 AND digest = $3',
      [remote, repository, digest],
    );
    return rowCount > 0;
  }

  /** Of `digests`, those the repository holds as blobs (with sizes) and as manifests. */
  async findReferences(
    remote: string,
    repository: string,
    digests: string[],
  ): Promise<{ blobs: Map<string, number>; manifests: Set<string> }> {
    const blobs = new Map<string, number>();
    const manifests = new Set<string>();
    if (digests.length === 0) return { blobs, manifests };
    const b = await this.db.query<{ digest: string; size: number }>(
      'SELECT digest, size FROM registry_blobs WHERE remote = $1 AND repository = $2 AND digest = ANY($3::text[])',
      [remote, repository, digests],
    );
    for (const r of b.rows) blobs.set(r.digest, Number(r.size));
    const m = await this.db.query<{ digest: string }>(
      'SELECT digest FROM registry_manifests WHERE remote = $1 AND repository = $2 AND digest = ANY($3::text[])',
      [remote, repository, digests],
    );
    for (const r of m.rows) manifests.add(r.digest);
    return { blobs, manifests };
  }

  /**
   * Store a manifest, what it references, and (optionally) point `tag` at it,
   * in one transaction: a concurrent reader sees all of it or none. Putting
   * the same manifest again is harmless; a tag simply moves.
   */
  async putManifest(
    remote: string,
    repository: string,
    m: ManifestRecord,
    refs: ManifestRef[],
    tag?: string,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO registry_manifests (remote, repository, ${manifestColumns})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
         ON CONFLICT (remote, repository, digest) DO NOTHING`,
        [
          remote,
          repository,
          m.digest,
          m.mediaType,
          m.size,
          m.artifactType ?? null,
          m.subject ?? null,
          m.annotations ? JSON.stringify(m.annotations) : null,
        ],
      );
      await insertRefs(tx, remote, repository, m.digest, refs);
      if (tag !== undefined) {
        await tx.query(
          `INSERT INTO registry_tags (remote, repository, tag, digest) VALUES ($1, $2, $3, $4)
           ON CONFLICT (remote, repository, tag) DO UPDATE SET digest = EXCLUDED.digest, updated_at = now()`,
          [remote, repository, tag, m.digest],
        );
      }
    });
  }

  async getManifest(remote: string, repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const { rows } = await this.db.query<ManifestRow>(
      `SELECT ${manifestColumns} FROM registry_manifests WHERE remote = $1 AND repository = $2 AND digest = $3`,
      [remote, repository, digest],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** The digest a tag points at, or `undefined`. */
  async resolveTag(remote: string, repository: string, tag: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ digest: string }>(
      'SELECT digest FROM registry_tags WHERE remote = $1 AND repository = $2 AND tag = $3',
      [remote, repository, tag],
    );
    return rows[0]?.digest;
  }

  /** Delete a manifest and every tag pointing at it. Returns whether it existed. */
  async deleteManifest(remote: string, repository: string, digest: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'DELETE FROM registry_manifests WHERE remote = $1 AND repository = $2 AND digest = $3',
      [remote, repository, digest],
    );
    return rowCount > 0;
  }

  /** Delete one tag; the manifest stays. Returns whether it existed. */
  async deleteTag(remote: string, repository: string, tag: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'DELETE FROM registry_tags WHERE remote = $1 AND repository = $2 AND tag = $3',
      [remote, repository, tag],
    );
    return rowCount > 0;
  }

  /** Tags in byte order, after `last` (exclusive), at most `limit` of them (all when undefined). */
  async listTags(
    remote: string,
    repository: string,
    opts: { last?: string; limit?: number },
  ): Promise<string[]> {
    const { rows } = await this.db.query<{ tag: string }>(
      `SELECT tag FROM registry_tags WHERE remote = $1 AND repository = $2 AND tag > $3
       ORDER BY tag LIMIT $4`,
      [remote, repository, opts.last ?? '', opts.limit ?? null],
    );
    return rows.map((r) => r.tag);
  }

  /** Whether the repository holds anything at all (a blob, a manifest or a tag). */
  async repositoryExists(remote: string, repository: string): Promise<boolean> {
    const { rows } = await this.db.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM registry_blobs WHERE remote = $1 AND repository = $2)
           OR EXISTS (SELECT 1 FROM registry_manifests WHERE remote = $1 AND repository = $2) AS found`,
      [remote, repository],
    );
    return rows[0]?.found === true;
  }

  /** Manifests whose `subject` is `digest`, oldest first, optionally of one artifact type. */
  async referrers(
    remote: string,
    repository: string,
    digest: string,
    artifactType?: string,
  ): Promise<ManifestRecord[]> {
    const { rows } = await this.db.query<ManifestRow>(
      `SELECT ${manifestColumns} FROM registry_manifests
       WHERE remote = $1 AND repository = $2 AND subject = $3 AND ($4::text IS NULL OR artifact_type = $4)
       ORDER BY created_at, digest`,
      [remote, repository, digest, artifactType ?? null],
    );
    return rows.map(fromRow);
  }
}

async function insertRefs(
  tx: Queryable,
  remote: string,
  repository: string,
  digest: string,
  refs: ManifestRef[],
) {
  if (refs.length === 0) return;
  await tx.query(
    `INSERT INTO registry_manifest_refs (remote, repository, digest, ref_digest, kind)
     SELECT $1, $2, $3, r.digest, r.kind FROM unnest($4::text[], $5::text[]) AS r(digest, kind)
     ON CONFLICT DO NOTHING`,
    [remote, repository, digest, refs.map((r) => r.digest), refs.map((r) => r.kind)],
  );
}

function fromRow(r: ManifestRow): ManifestRecord {
  return {
    digest: r.digest,
    mediaType: r.media_type,
    size: Number(r.size),
    ...(r.artifact_type ? { artifactType: r.artifact_type } : {}),
    ...(r.subject ? { subject: r.subject } : {}),
    ...(r.annotations ? { annotations: r.annotations } : {}),
  };
}
