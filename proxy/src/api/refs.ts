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
 * - anything else: a tag of that name, else a bare sha256 as `artifact:`.
 * NOT_FOUND (404) otherwise.
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
  throw new ApiError('NOT_FOUND', `no tag or artifact ${JSON.stringify(ref)} in package ${pkg.name}`);
}

async function packageArtifact(db: Queryable, pkg: PackageRow, raw: string): Promise<ArtifactRow> {
  const id = raw.toLowerCase();
  if (!sha256Pattern.test(id))
    throw new ApiError('VALIDATION_FAILED', 'artifact: refs need a full sha256 hex digest');
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
