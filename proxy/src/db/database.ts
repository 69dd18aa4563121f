/**
 * Database is the one SQL surface Orchard uses. Two engines implement it:
 * PostgreSQL via `pg` (production) and PGlite (embedded default). SQL is
 * written once, in PostgreSQL's dialect, with `$1` placeholders.
 */
export interface Queryable {
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
  /** `postgres` or `pglite`. */
  readonly name: string;
  /** Run `fn` in one transaction on one connection; commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Health probe for `/ready`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
