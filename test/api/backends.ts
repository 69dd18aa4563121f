// Real backends for the hosted API suites: fs + PGlite on disk (the embedded
// default) and s3 + PostgreSQL (production), each reopenable to simulate a
// restart. The s3/PostgreSQL pair needs the services `npm test` starts and
// fails with a clear message without them.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import type { Database } from '../../proxy/src/db/database.ts';
import { migrate } from '../../proxy/src/db/migrate.ts';
import { PgliteDatabase } from '../../proxy/src/db/pglite.ts';
import { PostgresDatabase } from '../../proxy/src/db/postgres.ts';
import { silentLogger } from '../../proxy/src/http/logger.ts';
import { wrapBlobStore } from '../../proxy/src/storage/base.ts';
import type { BlobStore } from '../../proxy/src/storage/blob-store.ts';
import { FsBlobStore } from '../../proxy/src/storage/fs.ts';
import { S3BlobStore } from '../../proxy/src/storage/s3.ts';
import { requireEnv, tmpDir } from '../harness/index.ts';

export interface Backends {
  name: string;
  /** Open (or reopen, after a simulated restart) the database and the store. */
  open(): Promise<{ db: Database; blobs: BlobStore }>;
  /** Drop what `open` created: the directory, or the schema (the bucket prefix stays; content-addressed, harmless). */
  dispose(): Promise<void>;
}

export async function fsAndPglite(): Promise<Backends> {
  const dir = await tmpDir('api-backends-');
  return {
    name: 'fs + PGlite',
    open: async () => {
      const db = await PgliteDatabase.open({ dir: join(dir, 'pg'), logger: silentLogger });
      await migrate(db, { logger: silentLogger });
      const blobs = wrapBlobStore(new FsBlobStore({ root: join(dir, 'blobs') }), {
        registry: new Registry(),
      });
      return { db, blobs };
    },
    // The harness removes beforeAll temp dirs only on a clean worker exit; this may hold GiBs.
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function s3AndPostgres(): Promise<Backends> {
  const url = requireEnv('ORCHARD_TEST_DATABASE_URL');
  const s3 = {
    endpoint: requireEnv('ORCHARD_TEST_S3_ENDPOINT'),
    bucket: requireEnv('ORCHARD_TEST_S3_BUCKET'),
    accessKeyId: process.env.ORCHARD_TEST_S3_ACCESS_KEY_ID || 'S3RVER',
    secretAccessKey: process.env.ORCHARD_TEST_S3_SECRET_ACCESS_KEY || 'S3RVER',
  };
  const suffix = randomBytes(6).toString('hex');
  const schema = `orchard_api_${suffix}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    name: 's3 + PostgreSQL',
    open: async () => {
      const db = new PostgresDatabase({
        connection: { connectionString: url },
        logger: silentLogger,
        schema,
      });
      await migrate(db, { logger: silentLogger });
      const store = new S3BlobStore({
        ...s3,
        region: 'us-east-1',
        forcePathStyle: true,
        prefix: `api-${suffix}/`,
      });
      return { db, blobs: wrapBlobStore(store, { registry: new Registry() }) };
    },
    dispose: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
