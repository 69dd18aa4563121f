import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../proxy/src/clock.ts';
import { MemoryCoordinator } from '../../proxy/src/coord/memory.ts';
import type { Database } from '../../proxy/src/db/database.ts';
import { BlobCollector } from '../../proxy/src/gc/collector.ts';
import { GuardedBlobStore } from '../../proxy/src/gc/guard.ts';
import { claimBlob } from '../../proxy/src/gc/references.ts';
import { silentLogger } from '../../proxy/src/http/logger.ts';
import { type BlobStore, blobKey } from '../../proxy/src/storage/blob-store.ts';
import { type Backends, fsAndPglite, s3AndPostgres } from '../api/backends.ts';

const hour = 3600_000;

describe.each([
  ['fs + PGlite', fsAndPglite],
  ['s3 + PostgreSQL', s3AndPostgres],
])('blob garbage collection on %s', (_name, make) => {
  let backends: Backends;
  let db: Database;
  let blobs: BlobStore;
  let clock: ManualClock;
  let coord: MemoryCoordinator;
  let collector: BlobCollector;

  beforeAll(async () => {
    backends = await make();
    const opened = await backends.open();
    db = opened.db;
    blobs = new GuardedBlobStore(opened.blobs, db);
    clock = new ManualClock(Date.now());
    coord = new MemoryCoordinator({ clock });
    collector = new BlobCollector(
      { db, blobs, coord, clock, logger: silentLogger, registry: new Registry() },
      { graceMs: hour },
    );
  });
  afterAll(async () => {
    await db?.close();
    await blobs?.close();
    await backends?.dispose();
  });

  async function put(label: string): Promise<string> {
    const data = Buffer.concat([Buffer.from(`${label}:`), randomBytes(1000)]);
    const sha = createHash('sha256').update(data).digest('hex');
    await blobs.put(blobKey(sha), Readable.from([data]), { expectedSha256: sha });
    return sha;
  }
  async function newPackage(): Promise<string> {
    const { rows: p } = await db.query<{ id: string }>(
      'INSERT INTO projects (name) VALUES ($1) RETURNING id',
      [`p-${randomUUID()}`],
    );
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO packages (project_id, name) VALUES ($1, 'pkg') RETURNING id`,
      [p[0]!.id],
    );
    return rows[0]!.id;
  }
  const exists = async (sha: string) => (await blobs.stat(blobKey(sha))) !== undefined;
  /** `exists` without claiming: what the collector sees. */
  const present = async (sha: string) => {
    for await (const o of blobs.list(blobKey(sha))) if (o.key === blobKey(sha)) return true;
    return false;
  };

  it('deletes only blobs nothing references, after two runs a grace period apart; a dry run changes nothing', async () => {
    const refs: Record<string, string> = {};
    for (const k of ['cache', 'local', 'artifact', 'link', 'manifest', 'layer', 'garbage'])
      refs[k] = await put(k);
    await db.query(`INSERT INTO cache_entries (remote, path, digest, size) VALUES ('r', $1, $2, 1)`, [
      `p/${randomUUID()}`,
      refs.cache,
    ]);
    await db.query(`INSERT INTO local_files (remote, path, digest, size) VALUES ('l', $1, $2, 1)`, [
      `p/${randomUUID()}`,
      refs.local,
    ]);
    await db.query('INSERT INTO artifacts (id, size) VALUES ($1, 1)', [refs.artifact]);
    await db.query('INSERT INTO uploads (artifact_id, package_id, size) VALUES ($1, $2, 1)', [
      refs.artifact,
      await newPackage(),
    ]);
    const repo = `r-${randomUUID()}`;
    await db.query(
      `INSERT INTO registry_manifests (remote, repository, digest, media_type, size) VALUES ('h', $1, $2, 'x', 1)`,
      [repo, refs.manifest],
    );
    await db.query(
      `INSERT INTO registry_manifest_refs (remote, repository, digest, ref_digest, kind) VALUES ('h', $1, $2, $3, 'blob'), ('h', $1, $2, $4, 'blob')`,
      [repo, refs.manifest, refs.layer, refs.link],
    );
    await db.query(`INSERT INTO registry_blobs (remote, repository, digest, size) VALUES ('h', $1, $2, 1)`, [
      repo,
      refs.link,
    ]);

    // Everything is new: protected by the grace period.
    const fresh = await collector.runOnce();
    expect(fresh).toMatchObject({ marked: 0, deleted: 0 });

    clock.advance(2 * hour);
    const first = await collector.runOnce();
    expect(first.marked).toBeGreaterThanOrEqual(1);
    expect(first.deleted).toBe(0);
    expect(await present(refs.garbage)).toBe(true);

    clock.advance(hour + 1000);
    const dry = await collector.runOnce({ dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.deleted).toBeGreaterThanOrEqual(1);
    expect(await present(refs.garbage)).toBe(true);

    const second = await collector.runOnce();
    expect(second.deleted).toBe(dry.deleted);
    expect(second.deletedBytes).toBeGreaterThanOrEqual(1005);
    expect(await present(refs.garbage)).toBe(false);
    for (const k of ['cache', 'local', 'artifact', 'link', 'manifest', 'layer']) {
      expect(await present(refs[k]!), k).toBe(true);
    }
  });

  it('a writer that reuses a blob (stat before referencing it) takes it off the candidate list', async () => {
    const sha = await put('reused');
    clock.advance(2 * hour);
    await collector.runOnce();
    const candidate = await db.query('SELECT 1 FROM gc_candidates WHERE digest = $1', [sha]);
    expect(candidate.rowCount).toBe(1);
    expect(await exists(sha)).toBe(true); // the dedup check claims it
    expect((await db.query('SELECT 1 FROM gc_candidates WHERE digest = $1', [sha])).rowCount).toBe(0);
    clock.advance(hour + 1000);
    const next = await collector.runOnce();
    // Recorded again, from now: not deleted in this run.
    expect(await present(sha)).toBe(true);
    expect(next.marked).toBeGreaterThanOrEqual(1);
  });

  it('registry repositories forget blobs no manifest of theirs references, then the bytes go', async () => {
    const repo = `r-${randomUUID()}`;
    const [kept, dropped] = [await put('kept-layer'), await put('dropped-layer')];
    const manifest = await put('manifest');
    await db.query(
      `INSERT INTO registry_manifests (remote, repository, digest, media_type, size) VALUES ('h', $1, $2, 'x', 1)`,
      [repo, manifest],
    );
    await db.query(
      `INSERT INTO registry_manifest_refs (remote, repository, digest, ref_digest, kind) VALUES ('h', $1, $2, $3, 'blob')`,
      [repo, manifest, kept],
    );
    await db.query(
      `INSERT INTO registry_blobs (remote, repository, digest, size) VALUES ('h', $1, $2, 1), ('h', $1, $3, 1)`,
      [repo, kept, dropped],
    );
    clock.advance(2 * hour);
    const first = await collector.runOnce();
    expect(first.linksRemoved).toBeGreaterThanOrEqual(1);
    const { rows } = await db.query<{ digest: string }>(
      'SELECT digest FROM registry_blobs WHERE repository = $1',
      [repo],
    );
    expect(rows.map((r) => r.digest)).toEqual([kept]);
    clock.advance(hour + 1000);
    await collector.runOnce();
    expect(await present(dropped)).toBe(false);
    expect(await present(kept)).toBe(true);
  });

  it('removes hosted artifacts nothing points at (their package was deleted), then their blobs', async () => {
    const [orphan, uploaded] = [await put('orphan'), await put('uploaded')];
    await db.query('INSERT INTO artifacts (id, size) VALUES ($1, 1), ($2, 1)', [orphan, uploaded]);
    await db.query('INSERT INTO uploads (artifact_id, package_id, size) VALUES ($1, $2, 1)', [
      uploaded,
      await newPackage(),
    ]);
    clock.advance(2 * hour);
    const first = await collector.runOnce();
    expect(first.artifactsRemoved).toBeGreaterThanOrEqual(1);
    const { rows } = await db.query<{ id: string }>('SELECT id FROM artifacts WHERE id = ANY($1::text[])', [
      [orphan, uploaded],
    ]);
    expect(rows.map((r) => r.id)).toEqual([uploaded]);
    clock.advance(hour + 1000);
    await collector.runOnce();
    expect(await present(orphan)).toBe(false);
    expect(await present(uploaded)).toBe(true);
  });

  it('removes what crashed writers left: old one-request temp objects and multipart sessions nobody owns', async () => {
    const temp = `tmp/cache-fill/${randomUUID()}`;
    await blobs.put(temp, Readable.from([Buffer.from('partial')]));
    const orphanKey = `tmp/uploads/${randomUUID()}`;
    const orphan = await blobs.createMultipart(orphanKey);
    const ownedKey = `tmp/uploads/${randomUUID()}`;
    const owned = await blobs.createMultipart(ownedKey);
    const pkg = await newPackage();
    const { rows: p } = await db.query<{ project_id: string }>(
      'SELECT project_id FROM packages WHERE id = $1',
      [pkg],
    );
    await db.query(
      `INSERT INTO upload_sessions (id, project_id, package_id, blob_key, multipart_upload_id, expected_hash, size, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, 10, now() + interval '1 day')`,
      [randomUUID(), p[0]!.project_id, pkg, ownedKey, owned, 'a'.repeat(64)],
    );
    clock.advance(2 * hour);
    const report = await collector.runOnce();
    expect(report.tempRemoved).toBeGreaterThanOrEqual(1);
    expect(report.uploadsAborted).toBeGreaterThanOrEqual(1);
    expect(await blobs.stat(temp)).toBeUndefined();
    const open: string[] = [];
    for await (const u of blobs.maintenance!.listUploads('tmp/uploads/')) open.push(u.uploadId);
    expect(open).toContain(owned);
    expect(open).not.toContain(orphan);
  });

  it('one collection at a time: a run finding the lock taken does nothing and says so', async () => {
    const lock = await coord.tryLock('blob-gc', { leaseMs: 60_000 });
    try {
      expect(await collector.runOnce()).toMatchObject({ skipped: 'locked', deleted: 0 });
    } finally {
      await lock!.release();
    }
  });

  it('a claim waits while a collector holds the candidate row lock', async () => {
    const sha = await put('locked');
    await db.query('INSERT INTO gc_candidates (digest, first_seen, size) VALUES ($1, now(), 1)', [sha]);
    let claimed = false;
    let release!: () => void;
    const hold = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    // The collector's side: the candidate's row lock, held as while it deletes the blob.
    const collecting = db.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM gc_candidates WHERE digest = $1 FOR UPDATE', [sha]);
      locked();
      await hold;
    });
    await isLocked;
    const claim = claimBlob(db, sha).then(() => {
      claimed = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(claimed).toBe(false);
    release();
    await collecting;
    await claim;
    expect(claimed).toBe(true);
  });
});
