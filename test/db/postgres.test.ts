import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDatabaseConformance } from '../../proxy/src/db/conformance.ts';
import type { Database } from '../../proxy/src/db/database.ts';
import { createMemoryDatabase } from '../../proxy/src/db/memory.ts';
import { loadMigrations, type Migration, migrate } from '../../proxy/src/db/migrate.ts';
import { PostgresDatabase } from '../../proxy/src/db/postgres.ts';
import { describeSchemaConformance } from '../../proxy/src/db/schema-conformance.ts';
import { silentLogger as logger } from '../../proxy/src/http/logger.ts';

const url = process.env.ORCHARD_TEST_DATABASE_URL;
if (!url) {
  throw new Error(
    'ORCHARD_TEST_DATABASE_URL is not set: run this suite through `npm test` (hack/test.ts starts PostgreSQL), ' +
      'or point it at a PostgreSQL you may create schemas in',
  );
}

// Every database in this file lives in its own schema, created here and dropped at the end,
// so runs can share one PostgreSQL.
const admin = new pg.Pool({ connectionString: url, max: 2 });
const schemas: string[] = [];

async function freshSchema(): Promise<string> {
  const schema = `orchard_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  schemas.push(schema);
  return schema;
}

function open(schema: string, max = 10): PostgresDatabase {
  return new PostgresDatabase({ connection: { connectionString: url! }, logger, schema, max });
}

afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA ${s} CASCADE`);
  await admin.end();
});

describeDatabaseConformance('postgres', async () => open(await freshSchema()));

describeSchemaConformance('postgres', async () => {
  const db = open(await freshSchema());
  await migrate(db, { logger });
  return db;
});

describe('migrations on PostgreSQL', () => {
  it('apply to an empty schema, then find nothing left to apply', async () => {
    const db = open(await freshSchema());
    try {
      const all = (await loadMigrations()).map((m) => m.version);
      const first = await migrate(db, { logger });
      expect(first.applied).toEqual(all);
      console.info(`PostgreSQL fresh schema: migrate ${first.durationMs} ms (${all.length} migrations)`);
      expect((await migrate(db, { logger })).applied).toEqual([]);
      const { rows } = await db.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY 1',
      );
      expect(rows.map((r) => r.version)).toEqual(all);
    } finally {
      await db.close();
    }
  });

  it('apply each migration exactly once when replicas start together', async () => {
    const schema = await freshSchema();
    const replicas = Array.from({ length: 5 }, () => open(schema, 2));
    // The real migrations (their CREATE TABLEs fail if run twice) plus one that counts its runs.
    const migrations: Migration[] = [
      ...(await loadMigrations()),
      { version: 9001, name: 'count_runs', sql: 'CREATE TABLE runs (n int);', checksum: 'a' },
      { version: 9002, name: 'record_run', sql: 'INSERT INTO runs VALUES (1);', checksum: 'b' },
    ];
    try {
      const results = await Promise.all(replicas.map((db) => migrate(db, { logger, migrations })));
      const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
      expect(applied).toEqual(migrations.map((m) => m.version));
      const db = replicas[0];
      expect((await db.query('SELECT count(*)::int AS n FROM runs')).rows[0].n).toBe(1);
      expect((await db.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n).toBe(
        migrations.length,
      );
    } finally {
      await Promise.all(replicas.map((db) => db.close()));
    }
  });
});

describe('one schema on both engines', () => {
  let postgres: Database;
  let pglite: Database;

  beforeAll(async () => {
    postgres = open(await freshSchema());
    pglite = await createMemoryDatabase(logger);
    await Promise.all([migrate(postgres, { logger }), migrate(pglite, { logger })]);
  });
  afterAll(async () => {
    await Promise.all([postgres?.close(), pglite?.close()]);
  });

  // Each query describes one aspect of the schema in the current schema (search_path's first entry).
  const aspects: Record<string, string> = {
    columns: `SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default,
                     collation_name, is_identity, identity_generation
                FROM information_schema.columns WHERE table_schema = current_schema()
               ORDER BY table_name, ordinal_position`,
    constraints: `SELECT rel.relname AS table_name, c.conname, c.contype, pg_get_constraintdef(c.oid) AS def
                    FROM pg_constraint c JOIN pg_class rel ON rel.oid = c.conrelid
                   -- PostgreSQL 18 (PGlite) also lists NOT NULL as constraints; columns cover those.
                   WHERE rel.relnamespace = current_schema()::regnamespace AND c.contype <> 'n'
                   ORDER BY rel.relname, c.conname`,
    indexes: `SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '') AS def
                FROM pg_indexes WHERE schemaname = current_schema() ORDER BY tablename, indexname`,
  };

  it.each(Object.keys(aspects))('has identical %s', async (aspect) => {
    const [a, b] = await Promise.all([postgres.query(aspects[aspect]), pglite.query(aspects[aspect])]);
    expect(a.rows.length).toBeGreaterThan(0);
    expect(b.rows).toEqual(a.rows);
  });
});
