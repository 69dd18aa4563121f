import pg from 'pg';
import type { Logger } from '../http/logger.ts';
import type { Settings } from '../settings.ts';
import type { Database, Queryable, QueryResult } from './database.ts';
import { OID, parseInt8 } from './values.ts';

export interface PostgresDatabaseOptions {
  /** Either the settings' connection fields or a `postgres://` URL (tests). */
  connection: NonNullable<Settings['database']> | { connectionString: string };
  logger: Logger;
  /** Schema to put first on every connection's search_path (tests use one per run). */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
}

type TypeId = Parameters<typeof pg.types.getTypeParser>[0];

/** The same int8 mapping as PGlite, so rows read alike on both engines (see values.ts). */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === OID.int8) return parseInt8;
    // pg does not export its array parser; int4[]'s parses elements with parseInt, which suits int8[] too.
    if (oid === OID.int8Array) return pg.types.getTypeParser(OID.int4Array as TypeId, 'text');
    return pg.types.getTypeParser(oid as TypeId, format ?? 'text');
  },
} as pg.CustomTypesConfig;

/**
 * PostgreSQL through a `pg` pool. `query` takes any free connection;
 * `transaction` holds one connection from BEGIN to COMMIT/ROLLBACK. Safe for
 * concurrent use; a pool connection that breaks while idle is logged and
 * replaced, never thrown.
 */
export class PostgresDatabase implements Database {
  readonly name = 'postgres';
  private readonly pool: pg.Pool;
  private closed = false;

  constructor(opts: PostgresDatabaseOptions) {
    const c = opts.connection;
    const base: pg.PoolConfig =
      'connectionString' in c
        ? { connectionString: c.connectionString }
        : {
            host: c.host,
            port: c.port,
            user: c.user,
            password: c.password,
            database: c.database,
            ssl: c.ssl,
          };
    this.pool = new pg.Pool({
      ...base,
      max: opts.max ?? 10,
      types: typeParsers,
      application_name: 'orchard',
      connectionTimeoutMillis: 10_000,
      ...(opts.schema ? { options: `-c search_path=${checkSchemaName(opts.schema)},public` } : {}),
    });
    // An idle client's connection dropping emits here; without a listener it would crash the process.
    this.pool.on('error', (err) =>
      opts.logger.warn('postgres idle connection error', { error: err.message }),
    );
  }

  async query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<QueryResult<T>> {
    this.assertOpen();
    return toResult<T>(await this.pool.query(sql, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    const client = await this.pool.connect();
    let open = true;
    const scoped: Queryable = {
      query: async <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => {
        if (!open) throw new Error('transaction already finished; tx is no longer usable');
        return toResult<R>(await client.query(sql, params));
      },
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(scoped);
      const commit = await client.query('COMMIT');
      // PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK, not an error; PGlite throws. Throw too.
      if (commit.command === 'ROLLBACK') throw new TransactionAbortedError();
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // The connection is unusable; destroy it rather than hand it to the next caller.
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      open = false;
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('database closed');
  }
}

/** A multi-statement query yields one result per statement; like PGlite's path, report the last. */
function toResult<T>(r: pg.QueryResult | pg.QueryResult[]): QueryResult<T> {
  const last = Array.isArray(r) ? r.at(-1) : r;
  const rows = (last?.rows ?? []) as T[];
  return { rows, rowCount: last?.rowCount ?? rows.length };
}

/** Thrown when COMMIT finds the transaction aborted by an earlier failed statement the callback swallowed. */
export class TransactionAbortedError extends Error {
  constructor() {
    super('transaction was aborted by an earlier error and has been rolled back');
    this.name = 'TransactionAbortedError';
  }
}

function checkSchemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid schema name ${JSON.stringify(name)}`);
  return name;
}
