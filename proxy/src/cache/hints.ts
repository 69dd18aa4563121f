import type { Database } from '../db/database.ts';
import type { ArtifactHint, DigestAlgorithm } from '../formats/index.ts';

interface Row extends Record<string, unknown> {
  digest_algorithm: DigestAlgorithm | null;
  digest: string | null;
  published_at: Date | null;
}

/**
 * Artifact hints (`cache_hints`): digests and publish dates that formats read
 * out of index documents, stored when the index is cached and consulted when
 * the artifact itself is requested. A newer index overwrites older hints for
 * the same path. Safe to call concurrently.
 */
export class HintStore {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  /** The hint for (remote, path), or `undefined`. */
  async get(remote: string, path: string): Promise<ArtifactHint | undefined> {
    const { rows } = await this.db.query<Row>(
      'SELECT digest_algorithm, digest, published_at FROM cache_hints WHERE remote = $1 AND path = $2',
      [remote, path],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      path,
      digest: r.digest && r.digest_algorithm ? { algorithm: r.digest_algorithm, hex: r.digest } : undefined,
      publishedAt: r.published_at ?? undefined,
    };
  }

  /**
   * Upsert hints found in the index at `sourcePath`, in batches (one index can
   * list thousands of files). A hint without a digest keeps a digest already
   * known for the path; likewise for the publish date.
   */
  async put(remote: string, sourcePath: string, hints: readonly ArtifactHint[], batch = 500): Promise<void> {
    // One statement must not touch a row twice: the last hint for a path wins.
    const unique = [
      ...new Map(hints.filter((h) => h.digest || h.publishedAt).map((h) => [h.path, h])).values(),
    ];
    for (let i = 0; i < unique.length; i += batch) {
      const part = unique.slice(i, i + batch);
      if (part.length === 0) continue;
      await this.db.query(
        `INSERT INTO cache_hints (remote, path, digest_algorithm, digest, published_at, source_path)
         SELECT $1, p, a, d, t, $2 FROM unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS u(p, a, d, t)
         ON CONFLICT (remote, path) DO UPDATE SET
           digest_algorithm = COALESCE(EXCLUDED.digest_algorithm, cache_hints.digest_algorithm),
           digest = COALESCE(EXCLUDED.digest, cache_hints.digest),
           published_at = COALESCE(EXCLUDED.published_at, cache_hints.published_at),
           source_path = EXCLUDED.source_path, updated_at = now()`,
        [
          remote,
          sourcePath,
          part.map((h) => h.path),
          part.map((h) => h.digest?.algorithm ?? null),
          part.map((h) => h.digest?.hex.toLowerCase() ?? null),
          part.map((h) => h.publishedAt?.toISOString() ?? null),
        ],
      );
    }
  }

  /** Record only a publish date (learned from Last-Modified when an artifact was quarantined). */
  async putPublished(remote: string, path: string, publishedAt: Date): Promise<void> {
    await this.put(remote, path, [{ path, publishedAt }]);
  }
}
