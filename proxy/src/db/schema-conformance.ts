import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The constraints 001_init.sql promises, exercised the way the API and the
 * cache engine use them, on every engine (error codes included). `open`
 * returns a freshly migrated database; the suite closes it.
 */
export function describeSchemaConformance(name: string, open: () => Promise<Database>): void {
  describe(`001_init schema: ${name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db.close();
    });

    async function seedPackage(project: string) {
      const p = await db.query<{ id: string }>('INSERT INTO projects (name) VALUES ($1) RETURNING id', [
        project,
      ]);
      const pkg = await db.query<{ id: string; format: string; platform: string }>(
        'INSERT INTO packages (project_id, name) VALUES ($1, $2) RETURNING id, format, platform',
        [p.rows[0].id, 'releases'],
      );
      return { projectId: p.rows[0].id, pkg: pkg.rows[0] };
    }

    it('fills defaults: uuid ids, timestamps, format generic, platform any, public projects', async () => {
      const { projectId, pkg } = await seedPackage('defaults');
      expect(projectId).toMatch(/^[0-9a-f-]{36}$/);
      expect(pkg).toMatchObject({ format: 'generic', platform: 'any' });
      const { rows } = await db.query(
        'SELECT is_public, created_by, created_at FROM projects WHERE id = $1',
        [projectId],
      );
      expect(rows[0]).toMatchObject({ is_public: true, created_by: 'anonymous' });
      expect(rows[0].created_at).toBeInstanceOf(Date);
    });

    it('keeps names unique per parent', async () => {
      const { projectId } = await seedPackage('unique');
      await expect(db.query("INSERT INTO projects (name) VALUES ('unique')")).rejects.toMatchObject({
        code: '23505',
      });
      await expect(
        db.query("INSERT INTO packages (project_id, name) VALUES ($1, 'releases')", [projectId]),
      ).rejects.toMatchObject({ code: '23505' });
      const other = await seedPackage('unique-2');
      expect(other.pkg.id).not.toBe(projectId);
    });

    it('accepts only sha256 hex artifact ids and non-negative sizes', async () => {
      await expect(db.query("INSERT INTO artifacts (id, size) VALUES ('ABC', 1)")).rejects.toMatchObject({
        code: '23514',
      });
      await expect(
        db.query('INSERT INTO artifacts (id, size) VALUES ($1, -1)', [sha('neg')]),
      ).rejects.toMatchObject({
        code: '23514',
      });
      await db.query('INSERT INTO artifacts (id, size, format_metadata) VALUES ($1, $2, $3)', [
        sha('ok'),
        5 * 2 ** 40,
        JSON.stringify({ format: 'tarball', version: '1.0.0' }),
      ]);
      const { rows } = await db.query('SELECT size, format_metadata FROM artifacts WHERE id = $1', [
        sha('ok'),
      ]);
      expect(rows[0]).toEqual({
        size: 5 * 2 ** 40,
        format_metadata: { format: 'tarball', version: '1.0.0' },
      });
    });

    it('refuses to delete a tagged artifact, and cascades a project delete down to tags and history', async () => {
      const { projectId, pkg } = await seedPackage('cascade');
      const art = sha('tagged');
      await db.query('INSERT INTO artifacts (id, size) VALUES ($1, 3)', [art]);
      const tag = await db.query<{ id: string }>(
        "INSERT INTO tags (package_id, name, artifact_id) VALUES ($1, 'v1', $2) RETURNING id",
        [pkg.id, art],
      );
      await db.query('INSERT INTO tag_history (tag_id, new_artifact_id) VALUES ($1, $2)', [
        tag.rows[0].id,
        art,
      ]);
      await db.query('INSERT INTO uploads (artifact_id, package_id, size) VALUES ($1, $2, 3)', [art, pkg.id]);
      await expect(db.query('DELETE FROM artifacts WHERE id = $1', [art])).rejects.toMatchObject({
        code: '23503',
      });
      await db.query('DELETE FROM projects WHERE id = $1', [projectId]);
      const left = await db.query(
        `SELECT (SELECT count(*)::int FROM packages WHERE project_id = $1) AS packages,
                (SELECT count(*)::int FROM tags WHERE package_id = $2) AS tags,
                (SELECT count(*)::int FROM tag_history WHERE tag_id = $3) AS tag_history,
                (SELECT count(*)::int FROM uploads WHERE package_id = $2) AS uploads`,
        [projectId, pkg.id, tag.rows[0].id],
      );
      expect(left.rows[0]).toEqual({ packages: 0, tags: 0, tag_history: 0, uploads: 0 });
      // The artifact itself survives: it is shared content, removed only by garbage collection.
      expect((await db.query('SELECT 1 FROM artifacts WHERE id = $1', [art])).rowCount).toBe(1);
    });

    it('limits upload session states and part numbers', async () => {
      const { projectId, pkg } = await seedPackage('sessions');
      const insert = (id: string, status: string) =>
        db.query(
          `INSERT INTO upload_sessions (id, project_id, package_id, blob_key, expected_hash, size, status, expires_at)
           VALUES ($1, $2, $3, 'tmp/x', $4, 10, $5, now() + interval '1 day')`,
          [id, projectId, pkg.id, sha('x'), status],
        );
      await insert('s1', 'pending');
      await expect(insert('s2', 'lost')).rejects.toMatchObject({ code: '23514' });
      await db.query(
        "INSERT INTO upload_parts (session_id, part_number, size, etag) VALUES ('s1', 1, 5, 'e')",
      );
      await expect(
        db.query("INSERT INTO upload_parts (session_id, part_number, size, etag) VALUES ('s1', 0, 5, 'e')"),
      ).rejects.toMatchObject({ code: '23514' });
      await db.query("DELETE FROM upload_sessions WHERE id = 's1'");
      expect((await db.query("SELECT 1 FROM upload_parts WHERE session_id = 's1'")).rowCount).toBe(0);
    });

    it('answers a cache flush by path prefix from the primary key index', async () => {
      for (const path of ['simple/a/', 'simple/b/', 'packages/x.whl']) {
        await db.query('INSERT INTO cache_entries (remote, path, digest, size) VALUES ($1, $2, $3, 1)', [
          'pypi',
          path,
          sha(path),
        ]);
      }
      await db.query(
        "INSERT INTO local_files (remote, path, digest, size) VALUES ('pypi', 'simple/own', $1, 1)",
        [sha('own')],
      );
      const plan = await db.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        const r = await tx.query(
          "EXPLAIN SELECT path FROM cache_entries WHERE remote = 'pypi' AND path LIKE 'simple/%'",
        );
        return r.rows.map((row) => row['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/cache_entries_pkey/);
      expect(plan).toMatch(/path >= 'simple\/'/);
      const flushed = await db.query("DELETE FROM cache_entries WHERE remote = $1 AND path LIKE 'simple/%'", [
        'pypi',
      ]);
      expect(flushed.rowCount).toBe(2);
      expect((await db.query('SELECT count(*)::int AS n FROM local_files')).rows[0].n).toBe(1);
    });

    it('numbers audit log entries in order', async () => {
      const ids: number[] = [];
      for (const action of ['create', 'upload', 'tag']) {
        const r = await db.query<{ id: number }>(
          "INSERT INTO audit_logs (action, resource, details) VALUES ($1, 'p/pkg', $2) RETURNING id",
          [action, JSON.stringify({ n: 1 })],
        );
        ids.push(r.rows[0].id);
      }
      expect(ids[1]).toBeGreaterThan(ids[0]);
      expect(ids[2]).toBeGreaterThan(ids[1]);
    });
  });
}
