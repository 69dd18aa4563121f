import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, waitUntil } from '../lib/net.ts';
import { findPostgresBinDir } from '../lib/packages.ts';
import { type RunAs, run, type SpawnedProcess, spawnProcess } from '../lib/proc.ts';
import type { RunningService, StartOptions } from './types.ts';

const USER = 'orchard';
const PASSWORD = 'orchard';
const DATABASE = 'orchard';

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1 and a free port, tuned for tests (fsync
 * off), with superuser `orchard`/`orchard` (password auth over TCP) and database
 * `orchard`. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
 * user. Env: ORCHARD_TEST_DATABASE_URL.
 */
export async function startPostgres(opts: StartOptions = {}): Promise<RunningService> {
  const started = Date.now();
  const bin = findPostgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found: install the Debian package postgresql');
  const dir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'orchard-pg-'));
  try {
    const runAs = process.getuid?.() === 0 ? { user: 'postgres' } : undefined;
    await initCluster(bin, dir, runAs);
    const { proc, port } = await startServer(bin, dir, runAs, opts.timeoutMs ?? 30_000);
    await createDatabase(port);
    return {
      name: 'postgres',
      env: { ORCHARD_TEST_DATABASE_URL: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}` },
      startupMs: Date.now() - started,
      stop: async () => {
        // SIGINT is PostgreSQL's "fast" shutdown: disconnect clients, no waiting.
        await proc.stop({ signal: 'SIGINT', graceMs: 10_000 });
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function initCluster(bin: string, dir: string, runAs: RunAs | undefined): Promise<void> {
  mkdirSync(join(dir, 'sock'));
  writeFileSync(join(dir, 'pwfile'), `${PASSWORD}\n`);
  if (runAs) chownTree(dir, runAs.user, ['sock', 'pwfile']);
  await run({
    name: 'initdb',
    cmd: join(bin, 'initdb'),
    args: [
      ...['-D', join(dir, 'data'), '-U', USER, `--pwfile=${join(dir, 'pwfile')}`],
      ...['--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C'],
    ],
    env: { PATH: process.env.PATH, LANG: 'C' },
    runAs,
    timeoutMs: 60_000,
  });
}

async function startServer(
  bin: string,
  dir: string,
  runAs: RunAs | undefined,
  timeoutMs: number,
): Promise<{ proc: SpawnedProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = spawnProcess({
      name: 'postgres',
      cmd: join(bin, 'postgres'),
      args: [
        ...['-D', join(dir, 'data'), '-p', String(port), '-k', join(dir, 'sock')],
        ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
        ...['-c', 'full_page_writes=off', '-c', 'max_connections=300', '-c', 'logging_collector=off'],
      ],
      env: { PATH: process.env.PATH, LANG: 'C' },
      runAs,
    });
    try {
      await waitUntil(() => ping(port, 'postgres'), {
        what: `postgres on 127.0.0.1:${port}`,
        timeoutMs,
        abort: proc.died,
      });
      return { proc, port };
    } catch (err) {
      await proc.stop({ signal: 'SIGKILL' });
      const portTaken = /could not bind|address already in use/i.test(proc.logs());
      if (!portTaken || attempt >= 3) throw err;
    }
  }
}

async function ping(port: number, database: string): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabase(port: number): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/** chown dir and the named entries in it to `user` (uid/gid from /etc/passwd). */
function chownTree(dir: string, user: string, entries: string[]): void {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`user ${user} not found; the postgresql package creates it`);
  const [, , uid, gid] = line.split(':');
  for (const p of [dir, ...entries.map((e) => join(dir, e))]) chownSync(p, Number(uid), Number(gid));
}
