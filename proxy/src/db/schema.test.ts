import { describe, expect, it } from 'vitest';
import { silentLogger as logger } from '../http/logger.ts';
import { loadSettings } from '../settings.ts';
import { createDatabase } from './index.ts';
import { createMemoryDatabase } from './memory.ts';
import { loadMigrations } from './migrate.ts';
import type { PgliteDatabase } from './pglite.ts';
import { describeSchemaConformance } from './schema-conformance.ts';

const settings = loadSettings({});

describeSchemaConformance('pglite (memory)', () => createMemoryDatabase(logger, { migrated: true }));

describe('migrated memory databases', () => {
  it('start from a copy of the migrated schema, independent of each other', async () => {
    const first = await createDatabase(settings, { logger, engine: 'memory' });
    const t0 = performance.now();
    const second = (await createDatabase(settings, { logger, engine: 'memory' })) as PgliteDatabase;
    const copyMs = Math.round(performance.now() - t0);
    console.info(`migrated memory database from the template: ${copyMs} ms`);
    try {
      const all = (await loadMigrations()).map((m) => m.version);
      const { rows } = await second.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY 1',
      );
      expect(rows.map((r) => r.version)).toEqual(all);
      await first.query("INSERT INTO projects (name) VALUES ('only-in-first')");
      expect((await second.query('SELECT count(*)::int AS n FROM projects')).rows[0].n).toBe(0);
      expect(second.name).toBe('memory');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('stay blank when migrations are turned off', async () => {
    const db = await createDatabase(settings, { logger, engine: 'memory', migrate: false });
    try {
      const { rows } = await db.query(
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await db.close();
    }
  });
});
