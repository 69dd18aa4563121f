import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.ts';

/** One accepted chunk of an upload: a temporary object in the blob store. */
export interface UploadChunk {
  key: string;
  size: number;
  sha256: string;
}

export interface UploadSession {
  id: string;
  remote: string;
  repository: string;
  /** Bytes received so far; the next chunk starts here. */
  size: number;
  chunks: UploadChunk[];
  updatedAt: Date;
}

interface Row extends Record<string, unknown> {
  id: string;
  remote: string;
  repository: string;
  size: number;
  chunks: UploadChunk[];
  updated_at: Date;
}

/** Where an upload's chunks live in the blob store, under one prefix per session. */
export function chunkKey(id: string, index: number): string {
  return `${chunkPrefix(id)}${String(index).padStart(5, '0')}`;
}

export function chunkPrefix(id: string): string {
  return `tmp/registry-uploads/${id}/`;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Blob upload sessions (`registry_uploads`). Sessions live in the database so
 * any replica can continue one and they survive restarts. Appending is a
 * compare-and-set on the session's size: of two appends at the same offset,
 * exactly one wins. Every method is safe to call concurrently.
 */
export class UploadStore {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  async create(remote: string, repository: string): Promise<string> {
    const id = randomUUID();
    await this.db.query('INSERT INTO registry_uploads (id, remote, repository) VALUES ($1, $2, $3)', [
      id,
      remote,
      repository,
    ]);
    return id;
  }

  /** The session when it exists and belongs to (remote, repository); `undefined` otherwise (also for a malformed id). */
  async get(remote: string, repository: string, id: string): Promise<UploadSession | undefined> {
    if (!uuidPattern.test(id)) return undefined;
    const { rows } = await this.db.query<Row>(
      `SELECT id, remote, repository, size, chunks, updated_at FROM registry_uploads
       WHERE id = $1 AND remote = $2 AND repository = $3`,
      [id, remote, repository],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /**
   * Append `chunk` when the session still has `expectedSize` bytes. Returns
   * false when another append got there first (or the session is gone); the
   * caller then owns `chunk.key` and must delete it.
   */
  async append(id: string, expectedSize: number, chunk: UploadChunk): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE registry_uploads SET size = size + $3, chunks = chunks || $4::jsonb, updated_at = now()
       WHERE id = $1 AND size = $2`,
      [id, expectedSize, chunk.size, JSON.stringify([chunk])],
    );
    return rowCount > 0;
  }

  /** Remove the session row. Returns whether it existed (so exactly one finisher wins). */
  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM registry_uploads WHERE id = $1', [id]);
    return rowCount > 0;
  }

  /** Sessions not touched since `before`, oldest first, at most `limit`. */
  async listStale(before: Date, limit = 100): Promise<UploadSession[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT id, remote, repository, size, chunks, updated_at FROM registry_uploads
       WHERE updated_at < $1 ORDER BY updated_at LIMIT $2`,
      [before, limit],
    );
    return rows.map(fromRow);
  }
}

function fromRow(r: Row): UploadSession {
  return {
    id: r.id,
    remote: r.remote,
    repository: r.repository,
    size: Number(r.size),
    chunks: r.chunks,
    updatedAt: r.updated_at,
  };
}
