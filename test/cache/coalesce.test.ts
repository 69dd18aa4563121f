import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireEnv, startProcess, type TestProcess, tmpDir } from '../harness/index.ts';
import { sha256Of, TestUpstream } from '../upstreams/server.ts';

// Issue 4, "Coalescing": three proxy processes sharing PostgreSQL, Redis and
// the S3 server. 50 concurrent cold requests for one 64 MiB file produce
// exactly one upstream GET and identical bytes everywhere; killing the leader
// mid-fill costs exactly one more fetch, not one per waiting client.

const size = 64 * 1024 * 1024;
const upstream = new TestUpstream();
const remote = `coalesce-${randomBytes(4).toString('hex')}`;
const procs: { proc: TestProcess; url: string }[] = [];

beforeAll(async () => {
  const db = new URL(requireEnv('ORCHARD_TEST_DATABASE_URL'));
  const redis = requireEnv('ORCHARD_TEST_REDIS_URL');
  const s3 = requireEnv('ORCHARD_TEST_S3_ENDPOINT');
  const bucket = requireEnv('ORCHARD_TEST_S3_BUCKET');
  await upstream.start();
  const dir = await tmpDir('coalesce-');
  const configDir = join(dir, 'config');
  await mkdir(configDir);
  await writeFile(
    join(configDir, 'remote.yaml'),
    [
      'apiVersion: orchard.dev/v1alpha1',
      'kind: Remote',
      `metadata: { name: ${remote} }`,
      `spec: { type: remote, package: generic, baseUrl: "${upstream.url}" }`,
      '',
    ].join('\n'),
  );
  const env = {
    ...process.env,
    ORCHARD_CONFIG: configDir,
    ORCHARD_CLUSTERED: 'true',
    ORCHARD_SERVER_HOST: '127.0.0.1',
    ORCHARD_DATABASE_HOST: db.hostname,
    ORCHARD_DATABASE_PORT: db.port,
    ORCHARD_DATABASE_USER: decodeURIComponent(db.username),
    ORCHARD_DATABASE_PASSWORD: decodeURIComponent(db.password),
    ORCHARD_DATABASE_DBNAME: db.pathname.slice(1),
    ORCHARD_REDIS_URL: redis,
    ORCHARD_S3_ENDPOINT: s3,
    ORCHARD_S3_BUCKET: bucket,
    ORCHARD_S3_ACCESS_KEY_ID: process.env.ORCHARD_TEST_S3_ACCESS_KEY_ID ?? 'S3RVER',
    ORCHARD_S3_SECRET_ACCESS_KEY: process.env.ORCHARD_TEST_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
    // A dead leader's key frees up after this; production uses 15 s.
    ORCHARD_CACHE_FILL_LEASE_MS: '2000',
    ORCHARD_LOG_LEVEL: 'warn',
  };
  const started = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const port = await freePort();
      const proc = await startProcess({
        name: `proxy-${i}`,
        cmd: process.execPath,
        args: ['proxy/src/main.ts'],
        env: { ...env, ORCHARD_SERVER_PORT: String(port), ORCHARD_DATA_DIR: join(dir, `data-${i}`) },
        readyWhen: async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok,
        timeoutMs: 90_000,
      });
      return { proc, url: `http://127.0.0.1:${port}` };
    }),
  );
  procs.push(...started);
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.proc.stop()));
  await upstream.close();
});

interface Fetched {
  proxy: number;
  status: number;
  sha256?: string;
  size: number;
  error?: string;
}

/** GET through proxy `i`; `onFirstByte` fires with the proxy index when body bytes start arriving. */
function fetchThrough(i: number, path: string, onFirstByte?: (i: number) => void): Promise<Fetched> {
  return new Promise((resolve) => {
    const h = createHash('sha256');
    let got = 0;
    const req = get(
      `${procs[i]!.url}/api/v1/remote/${remote}/${path}`,
      { agent: false },
      (res: IncomingMessage) => {
        res.on('data', (c: Buffer) => {
          if (got === 0) onFirstByte?.(i);
          got += c.length;
          h.update(c);
        });
        res.on('end', () =>
          resolve({
            proxy: i,
            status: res.statusCode ?? 0,
            sha256: res.complete ? h.digest('hex') : undefined,
            size: got,
          }),
        );
        res.on('error', (err) =>
          resolve({ proxy: i, status: res.statusCode ?? 0, size: got, error: err.message }),
        );
      },
    );
    req.on('error', (err) => resolve({ proxy: i, status: 0, size: got, error: err.message }));
  });
}

describe('one upstream fetch per key across replicas', () => {
  it('serves 50 concurrent cold requests over 3 processes with exactly 1 upstream GET', async () => {
    const file = { size, seed: 401 };
    upstream.set('/big/one.bin', { body: file });
    // Slow enough that every request arrives while the fill is running.
    upstream.behave('/big/one.bin', { kind: 'slow', bytesPerSecond: 32 * 1024 * 1024 }, 1);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, n) => fetchThrough(n % 3, 'big/one.bin')),
    );
    const want = await sha256Of(file);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(200);
      expect(r.sha256).toBe(want);
    }
    expect(upstream.count('/big/one.bin')).toBe(1);
  }, 120_000);

  it('recovers from a leader killed mid-fill with exactly one more upstream GET', async () => {
    const file = { size, seed: 402 };
    upstream.set('/big/two.bin', { body: file });
    upstream.behave('/big/two.bin', { kind: 'slow', bytesPerSecond: 8 * 1024 * 1024 }, 1);
    // The leader's own clients stream from its spool; the others see nothing until the commit.
    let leader = -1;
    let results!: Promise<Fetched[]>;
    const leaderKnown = new Promise<void>((resolve) => {
      const pending = Array.from({ length: 30 }, (_, n) =>
        fetchThrough(n % 3, 'big/two.bin', (i) => {
          if (leader === -1) {
            leader = i;
            resolve();
          }
        }),
      );
      results = Promise.all(pending);
    });
    await leaderKnown;
    await new Promise((r) => setTimeout(r, 500));
    expect(upstream.count('/big/two.bin')).toBe(1);
    // Killed, not stopped: no graceful drain, no chance to publish anything.
    process.kill(procs[leader]!.proc.pid, 'SIGKILL');
    await procs[leader]!.proc.exited;

    const done = await results;
    const want = await sha256Of(file);
    const survivors = done.filter((r) => r.proxy !== leader);
    expect(survivors.length).toBe(20);
    for (const r of survivors) {
      expect(r.error).toBeUndefined();
      expect(r.sha256).toBe(want);
    }
    // The dead leader's own clients were cut off, never handed a clean partial body.
    for (const r of done.filter((d) => d.proxy === leader))
      expect(r.sha256 === undefined || r.sha256 === want).toBe(true);
    expect(upstream.count('/big/two.bin')).toBe(2);
  }, 180_000);
});
