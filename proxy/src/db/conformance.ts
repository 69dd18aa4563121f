import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';

/**
 * The Database contract, run against every engine: the same SQL must read back
 * the same JS values, and transactions must be isolated from each other and
 * from plain queries (on PGlite that means queued, not interleaved on its one
 * connection). `open` returns a fresh database; the suite closes it.
 */
export function describeDatabaseConformance(name: string, open: () => Promise<Database>): void {
  describe(`Database conformance: ${name}`, () => {
    let db: Database;
    const tables: string[] = [];

    /** A scratch table with a unique name, dropped after the test. */
    async function table(columns: string): Promise<string> {
      const t = `conf_${randomBytes(6).toString('hex')}`;
      await db.query(`CREATE TABLE ${t} (${columns})`);
      tables.push(t);
      return t;
    }

    beforeAll(async () => {
      db = await open();
    });
    afterEach(async () => {
      for (const t of tables.splice(0)) await db.query(`DROP TABLE ${t}`);
    });
    afterAll(async () => {
      await db?.close();
    });

    it('maps column types to the same JS values', async () => {
      const { rows } = await db.query(
        `SELECT 42::int8 AS i8, 7::int4 AS i4, 1.50::numeric AS num, true AS b,
                '00000000-0000-0000-0000-00000000000a'::uuid AS u,
                '2026-01-02T03:04:05.678Z'::timestamptz AS ts, '\\x00ff'::bytea AS by,
                '{"a":[1,"x"]}'::jsonb AS j, ARRAY['p','q']::text[] AS arr, ARRAY[1,2]::int8[] AS arr8,
                NULL::text AS n`,
      );
      expect(rows[0]).toEqual({
        i8: 42,
        i4: 7,
        num: '1.50',
        b: true,
        u: '00000000-0000-0000-0000-00000000000a',
        ts: new Date('2026-01-02T03:04:05.678Z'),
        by: Buffer.from([0, 255]),
        j: { a: [1, 'x'] },
        arr: ['p', 'q'],
        arr8: [1, 2],
        n: null,
      });
      expect(Buffer.isBuffer(rows[0].by)).toBe(true);
    });

    it('refuses an int8 a JS number cannot hold exactly', async () => {
      await expect(db.query('SELECT 9007199254740993::int8 AS big')).rejects.toThrow(/int8/);
      const { rows } = await db.query('SELECT 9007199254740991::int8 AS max');
      expect(rows[0].max).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('binds parameters the same way', async () => {
      const t = await table('id int PRIMARY KEY, doc jsonb, tags text[], at timestamptz, size int8');
      const at = new Date('2026-03-04T05:06:07.089Z');
      await db.query(`INSERT INTO ${t} VALUES ($1, $2, $3, $4, $5)`, [
        1,
        JSON.stringify({ k: 'v' }),
        ['a', 'b'],
        at,
        2 ** 40,
      ]);
      await db.query(`INSERT INTO ${t} VALUES ($1, $2, $3, $4, $5)`, [
        2,
        JSON.stringify([1, 2]),
        [],
        null,
        null,
      ]);
      const { rows } = await db.query(`SELECT * FROM ${t} WHERE id = ANY($1::int[]) ORDER BY id`, [[1, 2]]);
      expect(rows).toEqual([
        { id: 1, doc: { k: 'v' }, tags: ['a', 'b'], at, size: 2 ** 40 },
        { id: 2, doc: [1, 2], tags: [], at: null, size: null },
      ]);
    });

    it('runs several statements without parameters and returns the last result', async () => {
      const t = `conf_${randomBytes(6).toString('hex')}`;
      tables.push(t);
      const r = await db.query(
        `CREATE TABLE ${t} (x int); INSERT INTO ${t} VALUES (1), (2), (3); SELECT x FROM ${t} ORDER BY x`,
      );
      expect(r.rows).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
      expect(r.rowCount).toBe(3);
    });

    it('reports rowCount for writes and reads', async () => {
      const t = await table('x int');
      expect((await db.query(`INSERT INTO ${t} SELECT generate_series(1, $1::int)`, [4])).rowCount).toBe(4);
      expect((await db.query(`UPDATE ${t} SET x = x + 10 WHERE x > $1`, [2])).rowCount).toBe(2);
      expect((await db.query(`DELETE FROM ${t} WHERE x > $1`, [100])).rowCount).toBe(0);
      const sel = await db.query(`SELECT x FROM ${t} WHERE x < $1`, [100]);
      expect(sel.rowCount).toBe(4);
      const ret = await db.query(`DELETE FROM ${t} WHERE x > $1 RETURNING x`, [10]);
      expect(ret.rowCount).toBe(2);
      expect(ret.rows.map((r) => r.x).sort()).toEqual([13, 14]);
    });

    it('surfaces SQLSTATE codes on errors', async () => {
      const t = await table('x int PRIMARY KEY');
      await db.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
      await expect(db.query(`INSERT INTO ${t} VALUES ($1)`, [1])).rejects.toMatchObject({ code: '23505' });
      await expect(db.query('SELECT * FROM conf_does_not_exist')).rejects.toMatchObject({ code: '42P01' });
    });

    it('commits a transaction that resolves', async () => {
      const t = await table('x int');
      const out = await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
        return (await tx.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
      });
      expect(out).toBe(1);
      expect((await db.query(`SELECT x FROM ${t}`)).rows).toEqual([{ x: 1 }]);
    });

    it('rolls back a transaction that throws and rethrows its error', async () => {
      const t = await table('x int');
      const boom = new Error('boom');
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect((await db.query(`SELECT x FROM ${t}`)).rows).toEqual([]);
    });

    it('fails the commit when the callback swallowed a statement error', async () => {
      const t = await table('x int PRIMARY KEY');
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
          await tx.query(`INSERT INTO ${t} VALUES ($1)`, [1]).catch(() => undefined);
        }),
      ).rejects.toThrow();
      expect((await db.query(`SELECT x FROM ${t}`)).rows).toEqual([]);
    });

    it('makes tx unusable after the transaction ends', async () => {
      let leaked: { query: Database['query'] } | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.query('SELECT 1')).rejects.toThrow(/transaction already finished/);
    });

    it('keeps a plain query out of a concurrent transaction', async () => {
      const t = await table('x int');
      let inserted!: () => void;
      const insertedInTx = new Promise<void>((r) => {
        inserted = r;
      });
      const txDone = db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
        inserted();
        await sleep(50);
        throw new Error('roll back');
      });
      // Issued while the transaction is open: it must neither see row 1 nor be rolled back with it.
      await insertedInTx;
      const outside = db.query(
        `INSERT INTO ${t} VALUES ($1) RETURNING (SELECT count(*)::int FROM ${t}) AS seen`,
        [2],
      );
      await expect(txDone).rejects.toThrow('roll back');
      expect((await outside).rows[0].seen).toBe(0);
      expect((await db.query(`SELECT x FROM ${t}`)).rows).toEqual([{ x: 2 }]);
    });

    it('isolates concurrent transactions from each other', async () => {
      const t = await table('x int');
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          db.transaction(async (tx) => {
            await tx.query(`INSERT INTO ${t} VALUES ($1)`, [i]);
            await sleep(i % 3);
            await tx.query(`INSERT INTO ${t} VALUES ($1)`, [i + 100]);
            if (i % 2 === 1) throw new Error(`odd ${i}`);
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(5);
      const { rows } = await db.query<{ x: number }>(`SELECT x FROM ${t} ORDER BY x`);
      expect(rows.map((r) => r.x)).toEqual([0, 2, 4, 6, 8, 100, 102, 104, 106, 108]);
    });

    it('serializes read-modify-write under SELECT FOR UPDATE', async () => {
      const t = await table('id int PRIMARY KEY, n int NOT NULL');
      await db.query(`INSERT INTO ${t} VALUES (1, 0)`);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const { rows } = await tx.query<{ n: number }>(`SELECT n FROM ${t} WHERE id = 1 FOR UPDATE`);
            await sleep(1);
            await tx.query(`UPDATE ${t} SET n = $1 WHERE id = 1`, [rows[0].n + 1]);
          }),
        ),
      );
      expect((await db.query(`SELECT n FROM ${t}`)).rows[0].n).toBe(20);
    });

    it('answers ping', async () => {
      await expect(db.ping()).resolves.toBeUndefined();
    });

    it('closes idempotently and refuses work afterwards', async () => {
      const other = await open();
      await other.query('SELECT 1');
      await other.close();
      await other.close();
      await expect(other.query('SELECT 1')).rejects.toThrow(/closed/);
      await expect(other.ping()).rejects.toThrow(/closed/);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
