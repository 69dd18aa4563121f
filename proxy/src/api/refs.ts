import type { Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { sha256Pattern } from './names.ts';
import { artifactInPackage, getArtifact } from './repo/artifacts.ts';
import type { ArtifactRow, PackageRow } from './repo/rows.ts';
import { getTag } from './repo/tags.ts';

export interface Resolved {
  artifact: ArtifactRow;
  /** How the ref resolved: a mutable tag or an immutable digest. */
  via: 'tag' | 'version' | 'artifact';
}

/**
 * Resolve a download ref within a package (the seed's forms):
 * - `artifact:<sha256>`: that artifact, if it was uploaded to or is tagged in this package;
 * - `tag:<name>`: that tag;
 * - `version:<v>`: the tag `<v>`, else the tag `v<v>`, else the newest upload
 *   to this package whose extracted metadata has that `version`;
 * - anything else: a tag of that name, else a bare sha256 as `artifact:`;
 *   `latest` with no tag of that name is the newest upload to the package.
 * Digests may be abbreviated to a unique prefix of at least 8 hex digits
 * (`artifact:a3f5d8e12b4c6789`), as the seed's examples write them.
 * NOT_FOUND (404) otherwise; CONFLICT (409) for an ambiguous prefix.
 */
export async function resolveRef(db: Queryable, pkg: PackageRow, ref: string): Promise<Resolved> {
  if (ref.startsWith('artifact:'))
    return { artifact: await packageArtifact(db, pkg, ref.slice(9)), via: 'artifact' };
  if (ref.startsWith('tag:')) return { artifact: await tagged(db, pkg, ref.slice(4)), via: 'tag' };
  if (ref.startsWith('version:')) return { artifact: await byVersion(db, pkg, ref.slice(8)), via: 'version' };
  const tag = await getTag(db, pkg.id, ref);
  if (tag) return { artifact: (await getArtifact(db, tag.artifact_id))!, via: 'tag' };
  if (sha256Pattern.test(ref.toLowerCase()))
    return { artifact: await packageArtifact(db, pkg, ref), via: 'artifact' };
  if (ref === 'latest') {
    const newest = await newestUpload(db, pkg);
    if (newest) return { artifact: newest, via: 'tag' };
  }
  throw new ApiError('NOT_FOUND', `no tag or artifact ${JSON.stringify(ref)} in package ${pkg.name}`);
}

async function packageArtifact(db: Queryable, pkg: PackageRow, raw: string): Promise<ArtifactRow> {
  const id = await resolveArtifactId(db, raw, pkg.id);
  const artifact = await getArtifact(db, id);
  if (!artifact || !(await artifactInPackage(db, pkg.id, id))) {
    throw new ApiError('NOT_FOUND', `artifact ${id} not found in package ${pkg.name}`);
  }
  return artifact;
}

async function tagged(db: Queryable, pkg: PackageRow, name: string): Promise<ArtifactRow> {
  const tag = await getTag(db, pkg.id, name);
  if (!tag) throw new ApiError('NOT_FOUND', `tag ${name} not found in package ${pkg.name}`);
  return (await getArtifact(db, tag.artifact_id))!;
}

async function byVersion(db: Queryable, pkg: PackageRow, version: string): Promise<ArtifactRow> {
  for (const name of [version, `v${version}`]) {
    const tag = await getTag(db, pkg.id, name);
    if (tag) return (await getArtifact(db, tag.artifact_id))!;
  }
  const { rows } = await db.query<ArtifactRow>(
    `SELECT a.* FROM uploads u JOIN artifacts a ON a.id = u.artifact_id
      WHERE u.package_id = $1 AND a.format_metadata->>'version' = $2
      ORDER BY u.uploaded_at DESC LIMIT 1`,
    [pkg.id, version],
  );
  if (!rows[0]) throw new ApiError('NOT_FOUND', `version ${version} not found in package ${pkg.name}`);
  return rows[0];
}

async function newestUpload(db: Queryable, pkg: PackageRow): Promise<ArtifactRow | undefined> {
  const { rows } = await db.query<ArtifactRow>(
    `SELECT a.* FROM uploads u JOIN artifacts a ON a.id = u.artifact_id
      WHERE u.package_id = $1 ORDER BY u.uploaded_at DESC, u.id DESC LIMIT 1`,
    [pkg.id],
  );
  return rows[0];
}

const prefixPattern = /^[0-9a-f]{8,63}$/;

/**
 * A full sha256, or the one artifact whose id starts with `raw` (at least 8
 * hex digits), among those of `packageId` when given, else among all.
 * VALIDATION_FAILED for malformed input, NOT_FOUND, CONFLICT when ambiguous.
 */
export async function resolveArtifactId(db: Queryable, raw: unknown, packageId?: string): Promise<string> {
  const v =
    typeof raw === 'string'
      ? raw
          .trim()
          .toLowerCase()
          .replace(/^sha256:/, '')
      : '';
  if (sha256Pattern.test(v)) return v;
  if (!prefixPattern.test(v)) {
    throw new ApiError(
      'VALIDATION_FAILED',
      'artifact id must be a sha256 hex digest or a unique prefix of at least 8 hex digits',
      {
        detail: { field: 'artifact_id' },
      },
    );
  }
  const { rows } = packageId
    ? await db.query<{ id: string }>(
        `SELECT DISTINCT artifact_id AS id FROM (
           SELECT artifact_id FROM uploads WHERE package_id = $1 AND artifact_id LIKE $2
           UNION SELECT artifact_id FROM tags WHERE package_id = $1 AND artifact_id LIKE $2) r LIMIT 2`,
        [packageId, `${v}%`],
      )
    : await db.query<{ id: string }>('SELECT id FROM artifacts WHERE id LIKE $1 LIMIT 2', [`${v}%`]);
  if (rows.length === 0) throw new ApiError('NOT_FOUND', `no artifact starts with ${v}`);
  if (rows.length > 1) throw new ApiError('CONFLICT', `artifact prefix ${v} is ambiguous; give more digits`);
  return rows[0].id;
}
