import { chmod, readdir } from 'node:fs/promises';
import pg from 'pg';
import { describe, it } from 'vitest';
import { type ServiceName, startServices } from '../../hack/services/index.ts';
import { canConnect, type TestScope, tmpDir } from './index.ts';

/** The TCP port in a service's main URL. */
function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function serviceRoot(scope: TestScope): Promise<string> {
  const dir = await tmpDir('svc-', scope);
  // PostgreSQL runs as the postgres user when we are root and must reach its data dir.
  await chmod(dir, 0o755);
  return dir;
}

// Concurrent: the cases mostly wait for processes to start.
describe.concurrent('hack/services', () => {
  it.for<[ServiceName, string]>([
    ['postgres', 'ORCHARD_TEST_DATABASE_URL'],
    ['redis', 'ORCHARD_TEST_REDIS_URL'],
    ['s3', 'ORCHARD_TEST_S3_ENDPOINT'],
  ])(
    '%s starts on a loopback port, answers, and stop() frees the port and removes its data',
    async ([name, envVar], { expect, onTestFinished }) => {
      const tmpRoot = await serviceRoot({ onTestFinished });
      const svc = await startServices([name], { tmpRoot, log: () => {} });
      const url = svc.env[envVar];
      expect(url).toMatch(/^[a-z]+:\/\/(.*@)?127\.0\.0\.1:\d+/);
      expect(await canConnect(portOf(url))).toBe(true);
      expect(await readdir(tmpRoot)).toHaveLength(1);
      await svc.stop();
      expect(await canConnect(portOf(url))).toBe(false);
      expect(await readdir(tmpRoot)).toEqual([]);
    },
  );

  it('postgres accepts the orchard user with its password and has the orchard database', async ({
    expect,
    onTestFinished,
  }) => {
    const tmpRoot = await serviceRoot({ onTestFinished });
    const svc = await startServices(['postgres'], { tmpRoot, log: () => {} });
    try {
      const client = new pg.Client({ connectionString: svc.env.ORCHARD_TEST_DATABASE_URL });
      await client.connect();
      const res = await client.query('SELECT current_user AS u, current_database() AS d');
      await client.end();
      expect(res.rows[0]).toEqual({ u: 'orchard', d: 'orchard' });

      const url = new URL(svc.env.ORCHARD_TEST_DATABASE_URL);
      url.password = 'wrong';
      const bad = new pg.Client({ connectionString: url.toString() });
      await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
    } finally {
      await svc.stop();
    }
  });

  it('reuses a service whose variables are already set and starts only the others', async ({
    expect,
    onTestFinished,
  }) => {
    const lines: string[] = [];
    const reuse = { ORCHARD_TEST_S3_ENDPOINT: 'http://127.0.0.1:1', ORCHARD_TEST_S3_BUCKET: 'given' };
    const svc = await startServices(['redis', 's3'], {
      reuse,
      tmpRoot: await serviceRoot({ onTestFinished }),
      log: (l) => lines.push(l),
    });
    try {
      expect(svc.services.map((s) => s.name)).toEqual(['redis']);
      expect(svc.env).toMatchObject(reuse);
      expect(svc.env.ORCHARD_TEST_REDIS_URL).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.join('\n')).toMatch(/s3 +reusing ORCHARD_TEST_S3_ENDPOINT/);
    } finally {
      await svc.stop();
    }
  });
});
