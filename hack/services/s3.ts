import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../lib/net.ts';
import { spawnProcess } from '../lib/proc.ts';
import type { RunningService, StartOptions } from './types.ts';

const BUCKET = 'orchard-test';
const ACCESS_KEY = 'S3RVER';
const SERVER_SCRIPT = join(import.meta.dirname, 's3-server.ts');

/**
 * An S3-protocol server (the s3rver package) in a child process on 127.0.0.1 and a
 * free port, storing objects in a temp dir, with bucket `orchard-test` created.
 * Path-style only. Env: ORCHARD_TEST_S3_ENDPOINT, ORCHARD_TEST_S3_BUCKET,
 * ORCHARD_TEST_S3_ACCESS_KEY_ID, ORCHARD_TEST_S3_SECRET_ACCESS_KEY.
 */
export async function startS3(opts: StartOptions = {}): Promise<RunningService> {
  const started = Date.now();
  const dir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'orchard-s3-'));
  let port = 0;
  const proc = spawnProcess({
    name: 's3rver',
    cmd: process.execPath,
    args: [SERVER_SCRIPT, dir, BUCKET],
    onLine: (line) => {
      const m = /^S3RVER_READY (\d+)$/.exec(line);
      if (m) port = Number(m[1]);
    },
  });
  try {
    await waitUntil(async () => port !== 0 && (await bucketAnswers(port)), {
      what: 's3rver',
      timeoutMs: opts.timeoutMs ?? 20_000,
      abort: proc.died,
    });
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL' });
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    name: 's3',
    env: {
      ORCHARD_TEST_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      ORCHARD_TEST_S3_BUCKET: BUCKET,
      ORCHARD_TEST_S3_ACCESS_KEY_ID: ACCESS_KEY,
      ORCHARD_TEST_S3_SECRET_ACCESS_KEY: ACCESS_KEY,
    },
    startupMs: Date.now() - started,
    stop: async () => {
      await proc.stop({ graceMs: 5000 });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** s3rver lists buckets without checking signatures; the bucket must be in the list. */
async function bucketAnswers(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
  const body = await res.text();
  return res.ok && body.includes(`<Name>${BUCKET}</Name>`);
}
