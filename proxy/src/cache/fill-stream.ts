import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExpectedDigest } from '../formats/index.ts';
import { type BlobStore, blobKey, type FileStaging, type PutResult } from '../storage/blob-store.ts';
import { discard, type FillRun } from './fill-run.ts';
import { Digester } from './hashing.ts';
import { batched } from './metrics.ts';
import { Spool } from './spool.ts';
import type { StreamMeta } from './types.ts';

/**
 * Where a streamed body goes besides the clients. Two ways, one contract:
 * `create` opens the spool; `finish` (after the spool is complete) makes the
 * bytes durable under their content address and returns the sha256;
 * `abandon` (on any failure) leaves nothing behind.
 */
interface Sink {
  spool: Spool;
  /** Hash the body on its way into the spool: sha256 is needed and nobody else computes it. */
  hashesInline: boolean;
  finish(inline: string | undefined): Promise<string>;
  abandon(): Promise<void>;
}

/** A committed body, or where it failed (the readers were aborted and nothing is stored). */
export type StreamedBody =
  | { ok: true /** sha256 hex */; digest: string; size: number }
  | { ok: false; phase: 'body' | 'store'; error: unknown };

/**
 * Stream-through: upstream → (hash / verify) → spool; the clients read the
 * spool at their own pace.
 *
 * - On a store with file staging (fs), the spool file IS the store's temp
 *   file: the body is hashed once, on the way in, written once, fsynced and
 *   renamed into place. Nothing reads it back.
 * - Otherwise (s3, memory) the store is one more spool reader; it writes
 *   straight to the final key when the sha256 is known up front (skipped when
 *   that blob already exists), else to a temporary key moved into place under
 *   the sha256 the store computed.
 *
 * Rejects only when the spool cannot be created (before any reader exists).
 */
export async function streamBody(
  run: FillRun,
  opts: { body: Readable; expected?: ExpectedDigest; meta: StreamMeta },
): Promise<StreamedBody> {
  const { deps } = run;
  const { expected, meta } = opts;
  const knownSha = meta.digest;
  let sink: Sink;
  try {
    sink = deps.blobs.staging
      ? await stagedSink(deps.blobs, deps.blobs.staging)
      : await putSink(deps.blobs, deps.spoolDir, knownSha, meta);
  } catch (err) {
    discard(opts.body);
    throw err;
  }
  const { spool } = sink;
  run.resolve({ kind: 'stream', spool, meta });

  // Reported in 1 MiB steps: a labelled inc per 64 KiB chunk is measurable garbage.
  const upstreamBytes = batched((n) => deps.metrics.upstreamBytes.inc(run.labels, n));
  // Hash only what is needed: a published digest to check before the last
  // byte is released, or the sha256 of a body nobody else hashes.
  const sha256 = sink.hashesInline && !knownSha;
  const digester = expected || sha256 ? new Digester({ expected, sha256 }) : undefined;
  let received = 0;
  const into = spool.writable({
    onChunk: (chunk) => {
      digester?.update(chunk);
      received += chunk.length;
      upstreamBytes.add(chunk.length);
    },
  });
  try {
    await pipeline(opts.body, into);
    // Checked before `complete`: readers hold back the last byte until then.
    digester?.finish();
    spool.complete();
  } catch (error) {
    spool.fail(error as Error);
    await sink.abandon();
    return { ok: false, phase: 'body', error };
  } finally {
    upstreamBytes.flush();
  }
  try {
    const digest = await sink.finish(knownSha ?? (sha256 ? digester?.sha256 : undefined));
    return { ok: true, digest, size: received };
  } catch (error) {
    await sink.abandon();
    return { ok: false, phase: 'store', error };
  }
}

/** The spool is a named file in the store's temp directory, adopted by rename. */
async function stagedSink(blobs: BlobStore, staging: FileStaging): Promise<Sink> {
  const path = await staging.path();
  const spool = await Spool.create('', { at: path });
  let adopted = false;
  return {
    spool,
    hashesInline: true,
    finish: async (digest) => {
      if (!digest) throw new Error('no sha256 was computed');
      const key = blobKey(digest);
      // Content-addressed: a blob already there holds these very bytes.
      if ((await blobs.stat(key)) !== undefined) {
        await unlink(path).catch(() => {});
      } else {
        await spool.persist();
        await staging.adopt(path, key);
      }
      adopted = true;
      return digest;
    },
    abandon: async () => {
      if (!adopted) await unlink(path).catch(() => {});
    },
  };
}

/** The store reads the spool like any client, through `put`. */
async function putSink(
  blobs: BlobStore,
  spoolDir: string,
  knownSha: string | undefined,
  meta: StreamMeta,
): Promise<Sink> {
  const spool = await Spool.create(spoolDir);
  const key = knownSha ? blobKey(knownSha) : `tmp/cache-fill/${randomUUID()}`;
  const skip = knownSha !== undefined && (await blobs.stat(key)) !== undefined;
  const stored: Promise<PutResult | undefined> = skip
    ? spool.settled().then(() => undefined)
    : // When the store falls behind the window, it catches up in 512 KiB reads.
      blobs.put(key, spool.createReader({ fileChunkBytes: 512 * 1024 }), {
        expectedSha256: knownSha,
        size: meta.size,
        contentType: meta.contentType,
      });
  stored.catch(() => {});
  return {
    spool,
    hashesInline: false,
    finish: async () => {
      const put = await stored;
      const digest = knownSha ?? put?.sha256;
      if (!digest) throw new Error('the store returned no sha256');
      if (!knownSha) await promote(blobs, key, blobKey(digest));
      return digest;
    },
    abandon: async () => {
      await stored.catch(() => {});
      if (!knownSha) await blobs.delete(key).catch(() => {});
    },
  };
}

/** Move a temporary blob to its content address; when that exists already, just drop the temporary one. */
async function promote(blobs: BlobStore, temp: string, final: string): Promise<void> {
  if ((await blobs.stat(final)) !== undefined) await blobs.delete(temp);
  else await blobs.move(temp, final);
}
