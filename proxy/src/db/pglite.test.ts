import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../http/logger.ts';
import { describeDatabaseConformance } from './conformance.ts';
import { DirectoryInUseError } from './dir-lock.ts';
import { createMemoryDatabase } from './memory.ts';
import { loadMigrations, type Migration, migrate } from './migrate.ts';
import { PgliteDatabase } from './pglite.ts';

const logger = silentLogger;

describeDatabaseConformance('pglite (memory)', () => createMemoryDatabase(logger));

describe('PGlite engine', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'orchard-pglite-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('migrates a fresh data directory, and a reopen finds nothing left to apply', async () => {
    const dir = join(root, 'fresh', 'pg');
    const t0 = performance.now();
    const db = await PgliteDatabase.open({ dir, logger });
    const opened = performance.now();
    const first = await migrate(db, { logger });
    const migrated = performance.now();
    const all = (await loadMigrations()).map((m) => m.version);
    expect(first.applied).toEqual(all);
    const { rows } = await db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(all);
    expect(await migrate(db, { logger })).toMatchObject({ applied: [] });
    await db.close();
    console.info(
      `PGlite fresh dir: open ${Math.round(opened - t0)} ms, migrate ${Math.round(migrated - opened)} ms (${all.length} migrations)`,
    );

    const again = await PgliteDatabase.open({ dir, logger });
    expect(await migrate(again, { logger })).toMatchObject({ applied: [] });
    expect((await again.query('SELECT count(*)::int AS n FROM projects')).rows[0].n).toBe(0);
    await again.close();
  });

  it('refuses a second open of the same data directory until the first closes', async () => {
    const dir = join(root, 'locked', 'pg');
    const db = await PgliteDatabase.open({ dir, logger });
    await expect(PgliteDatabase.open({ dir, logger })).rejects.toBeInstanceOf(DirectoryInUseError);
    await db.close();
    const reopened = await PgliteDatabase.open({ dir, logger });
    await reopened.close();
  });

  it('takes over a lock file left by a process that is gone', async () => {
    const dir = join(root, 'stale', 'pg');
    await mkdir(join(root, 'stale'));
    // pid 2^22+1 is above Linux's pid_max ceiling, so no live process has it.
    await writeFile(`${dir}.lock`, JSON.stringify({ host: hostname(), pid: 4_194_305 }));
    const db = await PgliteDatabase.open({ dir, logger });
    await db.close();
  });

  it('throws instead of deadlocking when the database is used inside its own transaction', async () => {
    const db = await createMemoryDatabase(logger);
    await expect(db.transaction(async () => db.query('SELECT 1'))).rejects.toThrow(/use the tx argument/);
    await expect(db.transaction(async () => db.transaction(async () => 1))).rejects.toThrow(
      /use the tx argument/,
    );
    await expect(db.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await db.close();
  });
});

describe('migrate (on PGlite)', () => {
  const m = (version: number, sql: string, name = `m${version}`): Migration => ({
    version,
    name,
    sql,
    checksum: `c${version}:${sql.length}`,
  });

  it('applies each migration in its own transaction and stops at a failing one', async () => {
    const db = await createMemoryDatabase(logger);
    const bad = [
      m(1, 'CREATE TABLE a (x int);'),
      m(2, 'CREATE TABLE b (x int); INSERT INTO b VALUES (1); SELECT no_such_function();'),
      m(3, 'CREATE TABLE c (x int);'),
    ];
    await expect(migrate(db, { logger, migrations: bad })).rejects.toThrow(/migration 002_m2 failed/);
    const tables = await db.query<{ t: string }>(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1',
    );
    expect(tables.rows.map((r) => r.t)).toEqual(['a', 'schema_migrations']);
    const fixed = [bad[0], m(2, 'CREATE TABLE b (x int);'), bad[2]];
    expect((await migrate(db, { logger, migrations: fixed })).applied).toEqual([2, 3]);
    await db.close();
  });

  it('refuses to start when an applied migration was edited', async () => {
    const db = await createMemoryDatabase(logger);
    await migrate(db, { logger, migrations: [m(1, 'CREATE TABLE a (x int);')] });
    const edited = { ...m(1, 'CREATE TABLE a (x int);'), checksum: 'different' };
    await expect(migrate(db, { logger, migrations: [edited] })).rejects.toThrow(
      /was changed after it was applied/,
    );
    await db.close();
  });

  it('reads NNN_name.sql files in version order and rejects misnamed or duplicate ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orchard-migrations-'));
    try {
      await writeFile(join(dir, '010_second.sql'), 'SELECT 2;');
      await writeFile(join(dir, '002_first.sql'), 'SELECT 1;');
      await writeFile(join(dir, 'README.md'), 'not a migration');
      const loaded = await loadMigrations(dir);
      expect(loaded.map((x) => [x.version, x.name])).toEqual([
        [2, 'first'],
        [10, 'second'],
      ]);
      expect(loaded[0].checksum).toMatch(/^[0-9a-f]{64}$/);
      await writeFile(join(dir, '010_again.sql'), 'SELECT 3;');
      await expect(loadMigrations(dir)).rejects.toThrow(/two migrations have version 10/);
      await rm(join(dir, '010_again.sql'));
      await writeFile(join(dir, '3-bad.sql'), 'SELECT 3;');
      await expect(loadMigrations(dir)).rejects.toThrow(/does not match NNN_name.sql/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
