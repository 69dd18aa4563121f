import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PGlite, type Transaction, types } from '@electric-sql/pglite';
import type { Logger } from '../http/logger.ts';
import type { Database, Queryable, QueryResult } from './database.ts';
import { type DirLock, lockDirectory } from './dir-lock.ts';
import { SerialQueue } from './serial-queue.ts';
import { parseBytea, parseInt8 } from './values.ts';

export interface PgliteDatabaseOptions {
  /** Data directory, created if absent; omitted means in memory (name `memory`). */
  dir?: string;
  /** Start from a copy of another database's data directory (see `dumpDataDir`). */
  loadDataDir?: Blob;
  logger: Logger;
}

/**
 * The embedded engine: PostgreSQL compiled to WASM, in this process.
 *
 * It has exactly one connection, so every `query` and `transaction` goes
 * through one FIFO queue: a transaction owns the connection from BEGIN to
 * COMMIT and a plain `query` waits for it rather than run inside it. (PGlite
 * 0.5 also does this internally; the queue keeps the guarantee independent of
 * PGlite's version and lets `close` drain pending work.) Calling
 * `db.query` or `db.transaction` from inside a transaction callback would wait
 * for itself forever, so it throws instead; use the `tx` argument.
 */
export class PgliteDatabase implements Database {
  readonly name: string;
  private readonly pg: PGlite;
  private readonly lock: DirLock | undefined;
  private readonly queue = new SerialQueue();
  private readonly inTransaction = new AsyncLocalStorage<{ open: boolean }>();
  private closed = false;

  private constructor(name: string, pg: PGlite, lock: DirLock | undefined) {
    this.name = name;
    this.pg = pg;
    this.lock = lock;
  }

  static async open(opts: PgliteDatabaseOptions): Promise<PgliteDatabase> {
    const started = performance.now();
    let lock: DirLock | undefined;
    if (opts.dir) {
      await mkdir(dirname(opts.dir), { recursive: true });
      lock = await lockDirectory(opts.dir);
      if (lock.takenOver)
        opts.logger.warn('stale PGlite lock file', { dir: opts.dir, detail: lock.takenOver });
      await mkdir(opts.dir, { recursive: true });
    }
    try {
      const pg = await PGlite.create({
        dataDir: opts.dir,
        loadDataDir: opts.loadDataDir,
        parsers: { [types.INT8]: parseInt8, [types.BYTEA]: parseBytea },
      });
      const db = new PgliteDatabase(opts.dir ? 'pglite' : 'memory', pg, lock);
      opts.logger.info('database opened', {
        engine: db.name,
        dir: opts.dir,
        duration_ms: Math.round(performance.now() - started),
      });
      return db;
    } catch (err) {
      await lock?.release();
      throw err;
    }
  }

  async query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<QueryResult<T>> {
    this.assertUsable('query');
    return this.queue.run(() => runQuery<T>(this.pg, sql, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.assertUsable('transaction');
    return this.queue.run(() =>
      this.pg.transaction(async (tx) => {
        const state = { open: true };
        const scoped: Queryable = {
          query: <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => {
            if (!state.open)
              return Promise.reject(new Error('transaction already finished; tx is no longer usable'));
            return runQuery<R>(tx, sql, params);
          },
        };
        try {
          return await this.inTransaction.run(state, () => fn(scoped));
        } finally {
          state.open = false;
        }
      }),
    );
  }

  /** A tarball of the whole data directory, for `loadDataDir`. Waits for queued work. */
  async dumpDataDir(): Promise<Blob> {
    this.assertUsable('dumpDataDir');
    return this.queue.run(() => this.pg.dumpDataDir('none'));
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.run(() => this.pg.close());
    await this.lock?.release();
  }

  private assertUsable(what: string): void {
    if (this.closed) throw new Error(`database closed; cannot run ${what}`);
    if (this.inTransaction.getStore()?.open) {
      throw new Error(`db.${what} called inside a PGlite transaction would deadlock; use the tx argument`);
    }
  }
}

/**
 * Without parameters a statement goes over the simple query protocol, so
 * several `;`-separated statements may run at once (migrations rely on it) and
 * the result is the last one's; with parameters it is a single prepared
 * statement. This is exactly what `pg` does, so both engines agree.
 */
async function runQuery<T>(
  q: PGlite | Transaction,
  sql: string,
  params?: unknown[],
): Promise<QueryResult<T>> {
  if (params === undefined || params.length === 0) {
    const results = await q.exec(sql);
    const last = results.at(-1);
    const rows = (last?.rows ?? []) as T[];
    return { rows, rowCount: last?.affectedRows || rows.length };
  }
  const r = await q.query<T>(sql, params);
  return { rows: r.rows, rowCount: r.affectedRows || r.rows.length };
}
