import { join } from 'node:path';
import type { Logger } from '../http/logger.ts';
import type { Settings } from '../settings.ts';
import type { Database } from './database.ts';
import { migrate } from './migrate.ts';

// Engines are imported when selected, not here: a process holds only the
// driver it uses (PGlite alone is megabytes of heap, and every byte of live
// heap makes each major GC dearer while bodies stream through the process).
export type { Database, Queryable, QueryResult } from './database.ts';
export { loadMigrations, type MigrateResult, type Migration, migrate } from './migrate.ts';

/** `migrate` tells a factory that migrations will run next, so it may start from an already migrated copy. */
export type DatabaseFactory = (
  settings: Settings,
  deps: { logger: Logger; migrate: boolean },
) => Promise<Database>;

const engines = new Map<string, DatabaseFactory>();

/** Make an engine selectable by name. Registering a name twice replaces the first. */
export function registerDatabaseEngine(name: string, factory: DatabaseFactory): void {
  engines.set(name, factory);
}

registerDatabaseEngine('postgres', async (settings, { logger }) => {
  if (!settings.database) throw new Error('the postgres engine needs ORCHARD_DATABASE_HOST');
  const { PostgresDatabase } = await import('./postgres.ts');
  const db = new PostgresDatabase({ connection: settings.database, logger });
  await waitUntilReachable(db, logger, 30_000);
  return db;
});
registerDatabaseEngine('pglite', async (settings, { logger }) => {
  const { PgliteDatabase } = await import('./pglite.ts');
  return PgliteDatabase.open({ dir: join(settings.dataDir, 'pg'), logger });
});
registerDatabaseEngine('memory', async (_settings, { logger, migrate }) => {
  const { createMemoryDatabase } = await import('./memory.ts');
  return createMemoryDatabase(logger, { migrated: migrate });
});

/**
 * Open the metadata database the settings select (PostgreSQL when
 * `settings.database` is set, else PGlite under `${dataDir}/pg`) and bring its
 * schema up to date. `engine` overrides the choice (`memory` for tests);
 * `migrate: false` skips migrations.
 */
export async function createDatabase(
  settings: Settings,
  deps: { logger: Logger; engine?: string; migrate?: boolean },
): Promise<Database> {
  const name = deps.engine ?? (settings.database ? 'postgres' : 'pglite');
  const factory = engines.get(name);
  if (!factory) throw new Error(`unknown database engine ${name}; known: ${[...engines.keys()].join(', ')}`);
  const logger = deps.logger.child({ component: 'db' });
  const db = await factory(settings, { logger, migrate: deps.migrate !== false });
  try {
    if (deps.migrate !== false) await migrate(db, { logger });
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** PostgreSQL may still be starting (a fresh cluster, a failover): retry for a while before giving up. */
async function waitUntilReachable(db: Database, logger: Logger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
    try {
      await db.ping();
      return;
    } catch (err) {
      if (Date.now() + delay > deadline) {
        await db.close();
        throw new Error(`PostgreSQL unreachable after ${timeoutMs} ms: ${(err as Error).message}`, {
          cause: err,
        });
      }
      logger.warn('waiting for PostgreSQL', { error: (err as Error).message, retry_in_ms: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
