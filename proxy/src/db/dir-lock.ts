import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * An exclusive lock on a data directory, held as a lock file (beside the
 * directory, not in it) with the owner's host and pid. PGlite opens a directory another process has open
 * without complaint and the two then corrupt it, so we refuse instead.
 *
 * A lock file is stale, and taken over, when its process is gone, when it was
 * written by this very process's pid but not by this process (a restarted
 * container is pid 1 again), or when it names another host (a rescheduled pod;
 * its liveness cannot be checked from here, so a warning is returned).
 */
const heldInProcess = new Set<string>();

export interface DirLock {
  /** A note for the log when a stale lock was taken over. */
  readonly takenOver?: string;
  release(): Promise<void>;
}

/** Take the lock `${dir}.lock` for `dir`. Throws `DirectoryInUseError` when a live process holds it. */
export async function lockDirectory(dir: string): Promise<DirLock> {
  const file = `${dir}.lock`;
  if (heldInProcess.has(file)) throw new DirectoryInUseError(dir, `this process (pid ${process.pid})`);
  const me = { host: hostname(), pid: process.pid };
  let takenOver: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(JSON.stringify(me));
      await fh.close();
      heldInProcess.add(file);
      return {
        takenOver,
        release: async () => {
          heldInProcess.delete(file);
          await rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(file);
    if (owner && owner.host === me.host && owner.pid !== me.pid && isAlive(owner.pid)) {
      throw new DirectoryInUseError(dir, `process ${owner.pid}`);
    }
    takenOver = owner
      ? `took over the lock of ${owner.host === me.host ? '' : `host ${owner.host} `}pid ${owner.pid}`
      : 'took over an unreadable lock file';
    await rm(file, { force: true });
  }
  throw new DirectoryInUseError(dir, 'another process that raced for it');
}

export class DirectoryInUseError extends Error {
  readonly dir: string;
  constructor(dir: string, owner: string) {
    super(
      `data directory ${dir} is in use by ${owner}; embedded PGlite serves one process, ` +
        'so run a single instance or configure PostgreSQL (ORCHARD_DATABASE_HOST)',
    );
    this.name = 'DirectoryInUseError';
    this.dir = dir;
  }
}

async function readOwner(file: string): Promise<{ host: string; pid: number } | undefined> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8'));
    return typeof v?.host === 'string' && Number.isInteger(v?.pid) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
