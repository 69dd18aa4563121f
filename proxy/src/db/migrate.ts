import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../http/logger.ts';
import type { Database, Queryable } from './database.ts';

/**
 * Schema migrations: `migrations/NNN_name.sql`, applied in version order, each
 * in its own transaction together with its `schema_migrations` row.
 *
 * Several replicas may start at once. Every migration transaction first takes
 * `pg_advisory_xact_lock` on a key derived from the current schema, then checks
 * whether the version is already recorded, so each migration is applied
 * exactly once; the loser of the race waits for the winner's commit and skips.
 * The lock is transaction-scoped, so a replica that dies mid-migration
 * releases it with its connection. It works the same on PGlite.
 *
 * A migration file must not contain BEGIN/COMMIT, nor statements that cannot
 * run inside a transaction (CREATE INDEX CONCURRENTLY). An applied migration
 * must never be edited: its checksum is recorded and a changed file stops
 * start-up. Write a new migration instead.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** sha256 of the file's bytes. */
  checksum: string;
}

export interface MigrateResult {
  /** Versions this call applied (others may have been applied by a concurrent replica). */
  applied: number[];
  durationMs: number;
}

export const defaultMigrationsDir = new URL('./migrations/', import.meta.url);

const fileName = /^(\d{3,})_([a-z0-9][a-z0-9_]*)\.sql$/;

const lockSql = "SELECT pg_advisory_xact_lock(hashtext('orchard.schema_migrations:' || current_schema()))";

const tableSql = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  duration_ms integer NOT NULL
)`;

/** Read every migration in `dir`, sorted by version. Throws on a misnamed `.sql` file or a duplicate version. */
export async function loadMigrations(dir: URL | string = defaultMigrationsDir): Promise<Migration[]> {
  const base = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const out: Migration[] = [];
  for (const file of (await readdir(base)).sort()) {
    if (!file.endsWith('.sql')) continue;
    const m = fileName.exec(file);
    if (!m) throw new Error(`migration file ${file} does not match NNN_name.sql`);
    const sql = await readFile(join(base, file), 'utf8');
    out.push({ version: Number(m[1]), name: m[2], sql, checksum: sha256(sql) });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i].version === out[i - 1].version)
      throw new Error(`two migrations have version ${out[i].version}`);
  }
  return out;
}

/** Apply every migration not yet recorded. Safe to call concurrently from several processes. */
export async function migrate(
  db: Database,
  opts: { logger: Logger; migrations?: Migration[] },
): Promise<MigrateResult> {
  const started = performance.now();
  const migrations = opts.migrations ?? (await loadMigrations());
  await db.transaction(async (tx) => {
    await tx.query(lockSql);
    await tx.query(tableSql);
  });
  const recorded = await readRecorded(db);
  checkRecorded(migrations, recorded, opts.logger);

  const applied: number[] = [];
  for (const m of migrations) {
    if (recorded.has(m.version)) continue;
    if (await applyOne(db, m)) {
      applied.push(m.version);
      opts.logger.info('migration applied', { version: m.version, name: m.name });
    }
  }
  const durationMs = Math.round(performance.now() - started);
  if (applied.length > 0)
    opts.logger.info('database migrated', { engine: db.name, applied, duration_ms: durationMs });
  return { applied, durationMs };
}

/** Apply `m` unless a concurrent migrator got there first. Returns whether this call applied it. */
async function applyOne(db: Database, m: Migration): Promise<boolean> {
  return db.transaction(async (tx: Queryable) => {
    await tx.query(lockSql);
    const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
    if (done.rows.length > 0) return false;
    const t = performance.now();
    try {
      await tx.query(m.sql);
    } catch (err) {
      throw new Error(`migration ${pad(m.version)}_${m.name} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    await tx.query(
      'INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)',
      [m.version, m.name, m.checksum, Math.round(performance.now() - t)],
    );
    return true;
  });
}

async function readRecorded(db: Database): Promise<Map<number, { name: string; checksum: string }>> {
  const { rows } = await db.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM schema_migrations',
  );
  return new Map(rows.map((r) => [r.version, { name: r.name, checksum: r.checksum }]));
}

function checkRecorded(
  migrations: Migration[],
  recorded: Map<number, { name: string; checksum: string }>,
  logger: Logger,
): void {
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const [version, r] of recorded) {
    const m = known.get(version);
    if (!m) {
      // A newer release migrated this database; an older one may still run against it (rollback).
      logger.warn('database has a migration this release does not know', { version, name: r.name });
    } else if (m.checksum !== r.checksum) {
      throw new Error(
        `migration ${pad(version)}_${m.name} was changed after it was applied (checksum differs); ` +
          'never edit an applied migration, add a new one',
      );
    }
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function pad(v: number): string {
  return String(v).padStart(3, '0');
}
