import type { Database } from '../db/database.ts';
import { type BlobInfo, type BlobStore, blobKey } from '../storage/blob-store.ts';
import { digestOfKey } from './guard.ts';
import { findUnreferenced, unreferencedSql } from './references.ts';

/** Digests looked up per query while scanning the store. */
const batchSize = 500;

export interface SweepContext {
  db: Database;
  blobs: BlobStore;
  /** Start of the run (ms). */
  now: number;
  /** Older than this (ms) counts as abandoned: the grace period's start. */
  cutoff: number;
  dryRun: boolean;
}

export interface BlobSweep {
  /** Content-addressed blobs looked at. */
  scanned: number;
  /** Of those, referenced by no row. */
  unreferenced: number;
  /** Newly recorded as candidates (deleted by a later run, past the grace period). */
  marked: number;
  /** Deleted (dry run: would be). */
  deleted: number;
  deletedBytes: number;
}

/**
 * Registry repositories forget blobs no manifest of theirs references (what
 * distribution's `garbage-collect` does), once the link is older than the
 * grace period: a push uploads its blobs before the manifest that names them.
 */
export async function sweepRegistryLinks(ctx: SweepContext): Promise<number> {
  const where = `b.created_at < $1
    AND NOT EXISTS (SELECT 1 FROM registry_manifest_refs r
                    WHERE r.remote = b.remote AND r.repository = b.repository
                      AND r.ref_digest = b.digest AND r.kind = 'blob')`;
  const cutoff = new Date(ctx.cutoff);
  if (ctx.dryRun) {
    const { rows } = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM registry_blobs b WHERE ${where}`,
      [cutoff],
    );
    return rows[0]?.n ?? 0;
  }
  const { rowCount } = await ctx.db.query(`DELETE FROM registry_blobs b WHERE ${where}`, [cutoff]);
  return rowCount;
}

/**
 * Hosted artifacts nothing points at any more (no tag, no upload record: what
 * deleting their package left), older than the grace period. Their blobs are
 * then unreferenced, unless shared, and go in a later run. Rows an upload is
 * reusing right now are locked by it (`insertArtifact`) and skipped.
 */
export async function sweepOrphanArtifacts(ctx: SweepContext): Promise<number> {
  const orphans = `SELECT id FROM artifacts a
    WHERE a.ref_count = 0 AND a.created_at < $1
      AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.artifact_id = a.id)
      AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.artifact_id = a.id)`;
  const cutoff = new Date(ctx.cutoff);
  if (ctx.dryRun) {
    const { rows } = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${orphans}) o`, [
      cutoff,
    ]);
    return rows[0]?.n ?? 0;
  }
  const { rowCount } = await ctx.db.query(
    `DELETE FROM artifacts WHERE id IN (${orphans} FOR UPDATE SKIP LOCKED)`,
    [cutoff],
  );
  return rowCount;
}

/**
 * Mark and sweep the content-addressed blobs: a blob no row references and
 * untouched for the grace period becomes a candidate; a candidate recorded
 * before the grace period began, still unreferenced, is deleted. Deleting
 * holds the candidate's row lock, which `claimBlob` waits for (see
 * migrations/050_blob_gc.sql).
 */
export async function sweepBlobs(ctx: SweepContext): Promise<BlobSweep> {
  const out: BlobSweep = { scanned: 0, unreferenced: 0, marked: 0, deleted: 0, deletedBytes: 0 };
  let batch: BlobInfo[] = [];
  for await (const info of ctx.blobs.list('blobs/sha256/')) {
    if (!digestOfKey(info.key)) continue;
    batch.push(info);
    if (batch.length >= batchSize) {
      await sweepBatch(ctx, batch, out);
      batch = [];
    }
  }
  if (batch.length > 0) await sweepBatch(ctx, batch, out);
  return out;
}

async function sweepBatch(ctx: SweepContext, infos: BlobInfo[], out: BlobSweep): Promise<void> {
  const byDigest = new Map(infos.map((i) => [digestOfKey(i.key)!, i]));
  out.scanned += infos.length;
  const unreferenced = await findUnreferenced(ctx.db, [...byDigest.keys()]);
  out.unreferenced += unreferenced.size;
  const referenced = [...byDigest.keys()].filter((d) => !unreferenced.has(d));
  // Untouched for the grace period: a blob written just now may be about to get its row.
  const old = [...unreferenced].filter((d) => byDigest.get(d)!.lastModified.getTime() < ctx.cutoff);
  if (ctx.dryRun) {
    const { rows } = await ctx.db.query<{ digest: string; first_seen: Date }>(
      'SELECT digest, first_seen FROM gc_candidates WHERE digest = ANY($1::text[])',
      [old],
    );
    const due = rows.filter((r) => r.first_seen.getTime() < ctx.cutoff);
    out.marked += old.length - rows.length;
    out.deleted += due.length;
    for (const r of due) out.deletedBytes += byDigest.get(r.digest)!.size;
    return;
  }
  if (referenced.length > 0) {
    await ctx.db.query('DELETE FROM gc_candidates WHERE digest = ANY($1::text[])', [referenced]);
  }
  if (old.length === 0) return;
  const { rowCount } = await ctx.db.query(
    `INSERT INTO gc_candidates (digest, first_seen, size)
     SELECT d, $2, s FROM unnest($1::text[], $3::bigint[]) AS u(d, s)
     ON CONFLICT (digest) DO NOTHING`,
    [old, new Date(ctx.now), old.map((d) => byDigest.get(d)!.size)],
  );
  out.marked += rowCount;
  await deleteDue(ctx, old, out);
}

/** Delete the candidates among `digests` recorded before the cutoff and still unreferenced, under their row locks. */
async function deleteDue(ctx: SweepContext, digests: string[], out: BlobSweep): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const { rows } = await tx.query<{ digest: string; size: number }>(
      `SELECT digest, size FROM gc_candidates
       WHERE digest = ANY($1::text[]) AND first_seen < $2 AND ${unreferencedSql('gc_candidates.digest')}
       FOR UPDATE SKIP LOCKED`,
      [digests, new Date(ctx.cutoff)],
    );
    for (const r of rows) {
      await ctx.blobs.delete(blobKey(r.digest));
      out.deleted++;
      out.deletedBytes += Number(r.size);
    }
    if (rows.length > 0) {
      await tx.query('DELETE FROM gc_candidates WHERE digest = ANY($1::text[])', [rows.map((r) => r.digest)]);
    }
  });
}

/** Prefixes of temporary objects that live for one request, which no other sweep removes. */
const requestTempPrefixes = ['tmp/cache-fill/', 'tmp/local-upload/'];

export interface TempSweep {
  tempRemoved: number;
  uploadsAborted: number;
}

/**
 * What crashed writers leave: one-request temporary objects, the backend's
 * private temp files (fs), and multipart sessions that no upload session
 * owns, all untouched for the grace period. Upload sessions of the hosted
 * API and the registry have sweepers of their own.
 */
export async function sweepLeftovers(ctx: SweepContext): Promise<TempSweep> {
  let tempRemoved = 0;
  for (const prefix of requestTempPrefixes) {
    for await (const obj of ctx.blobs.list(prefix)) {
      if (obj.lastModified.getTime() >= ctx.cutoff) continue;
      if (!ctx.dryRun) await ctx.blobs.delete(obj.key);
      tempRemoved++;
    }
  }
  const upkeep = ctx.blobs.maintenance;
  if (!upkeep) return { tempRemoved, uploadsAborted: 0 };
  if (upkeep.removeStaleTemp && !ctx.dryRun) {
    tempRemoved += await upkeep.removeStaleTemp(ctx.now - ctx.cutoff, ctx.now);
  }
  const { rows } = await ctx.db.query<{ id: string }>(
    `SELECT multipart_upload_id AS id FROM upload_sessions
     WHERE status IN ('pending', 'completing') AND multipart_upload_id IS NOT NULL`,
  );
  const owned = new Set(rows.map((r) => r.id));
  let uploadsAborted = 0;
  for await (const u of upkeep.listUploads('')) {
    if (owned.has(u.uploadId) || u.initiated.getTime() >= ctx.cutoff) continue;
    if (!ctx.dryRun) await ctx.blobs.abortMultipart(u.key, u.uploadId);
    uploadsAborted++;
  }
  return { tempRemoved, uploadsAborted };
}
