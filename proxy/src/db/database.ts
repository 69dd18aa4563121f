/**
 * Database is the one SQL surface Orchard uses. Two engines implement it:
 * PostgreSQL via `pg` (production) and PGlite (embedded default; also in
 * memory for tests). SQL is written once, in PostgreSQL's dialect, with `$1`
 * placeholders, and reads back the same JS values on both engines:
 *
 * - int8/bigint → number (throws rather than round beyond 2^53), int4 → number
 * - numeric → string; bool → boolean; uuid and text → string
 * - timestamptz → Date; bytea → Buffer; json/jsonb → the parsed value
 * - arrays → JS arrays of the above
 *
 * Parameters: pass `JSON.stringify(v)` for a json/jsonb parameter (pg would
 * turn a JS array into a PostgreSQL array literal); pass JS arrays for array
 * parameters (`= ANY($1::text[])`); pass Date for timestamptz.
 *
 * See docs/database.md for the schema and migrations.
 */
export interface Queryable {
  /**
   * Run one statement. With `params` (non-empty) it is a single prepared
   * statement. Without, it goes over the simple query protocol: several
   * `;`-separated statements may run at once, in one implicit transaction, and
   * the result is the last statement's.
   *
   * `rowCount` is the number of rows affected by INSERT/UPDATE/DELETE, or
   * returned by SELECT. Errors are the engine's own (with `code`, the SQLSTATE,
   * e.g. `23505` for a unique violation, on both engines).
   */
  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<QueryResult<T>>;
}

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Database extends Queryable {
  /** `postgres`, `pglite` (on disk) or `memory` (PGlite in memory). */
  readonly name: string;
  /**
   * Run `fn` in one transaction on one connection (READ COMMITTED); commit
   * when it resolves, roll back and rethrow when it throws. If a statement
   * failed inside `fn` and `fn` swallowed the error, COMMIT fails and this
   * rejects. `tx` is unusable once `fn` settles. Inside `fn`, use only `tx`:
   * on PGlite, the single connection belongs to the transaction, so calling
   * the database itself throws. Safe to call concurrently: on PostgreSQL
   * transactions run in parallel on separate connections; on PGlite they (and
   * plain queries) are queued and run one at a time.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Health probe for `/ready`. Throws when the database cannot answer. */
  ping(): Promise<void>;
  /** Wait for queued work, then release connections (and PGlite's data directory lock). Idempotent. */
  close(): Promise<void>;
}
