/**
 * File primitives of the fs backend: every write goes to a temp file on the
 * same filesystem, is flushed (fsync), and is published with rename(2), which
 * atomically replaces the target. Readers holding the old file keep reading it.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, StorageError } from './errors.ts';
import { type HashingOptions, HashingStream } from './hashing.ts';

export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** ENOENT and ENOTDIR both mean "no such file" for a path some of whose parents may be files. */
export function isMissing(err: unknown): boolean {
  const code = errCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export interface TempFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Stream `body` into a new file in `tmpDir`, checking size/digest on the way,
 * and flush it to disk. On any failure the temp file is removed and the error
 * (the body's, or the typed check error) is rethrown.
 */
export async function writeTemp(tmpDir: string, body: Readable, check: HashingOptions): Promise<TempFile> {
  const path = join(tmpDir, randomBytes(16).toString('hex'));
  const hashing = new HashingStream(check);
  try {
    // `flush: true` fsyncs before close, so a rename never publishes data that is not on disk.
    await pipeline(body, hashing, createWriteStream(path, { flush: true, flags: 'wx' }));
  } catch (err) {
    await unlink(path).catch(() => {});
    throw err;
  }
  return { path, size: hashing.size, sha256: hashing.sha256 };
}

/**
 * rename(2) `from` onto `target`, creating parent directories. A concurrent
 * delete may prune a freshly created parent between mkdir and rename, so
 * ENOENT is retried a few times. Throws `NotFoundError` (for `fromKey`) when
 * `from` itself is gone, and a `StorageError` when a parent of `target` is a
 * file or `target` is a directory (the fs backend cannot hold both `a` and `a/b`).
 */
export async function publishFile(opts: {
  from: string;
  target: string;
  key: string;
  fromKey?: string;
  backend: string;
}): Promise<void> {
  const { from, target, key, backend } = opts;
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, target);
      break;
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' && attempt < 5) {
        if (!(await exists(from))) throw new NotFoundError({ key: opts.fromKey ?? key, backend });
        await mkdir(dirname(target), { recursive: true }).catch((e: unknown) => {
          throw conflict(e, key, backend);
        });
        continue;
      }
      throw conflict(err, key, backend);
    }
  }
  await syncDir(dirname(target));
}

function conflict(err: unknown, key: string, backend: string): unknown {
  const code = errCode(err);
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTEMPTY') {
    return new StorageError(`${backend}: ${key} conflicts with an existing object or key prefix (${code})`, {
      key,
      backend,
      cause: err,
    });
  }
  return err;
}

/** fsync a directory so a rename in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, 'r')).close();
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** Remove `dir` and its parents while they are empty, stopping at `root`. Best effort. */
export async function pruneEmptyDirs(dir: string, root: string): Promise<void> {
  let current = dir;
  while (relative(root, current) !== '' && !relative(root, current).startsWith('..')) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = dirname(current);
  }
}
