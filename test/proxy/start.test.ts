// `npm start` on embedded defaults: the real entry point as a child process,
// a fresh data directory, config/samples, and the endpoints the README promises.
import { cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProcess, type TestProcess, tmpDir, waitUntil } from '../harness/index.ts';

const root = join(import.meta.dirname, '../..');

describe('proxy on embedded defaults (npm start)', () => {
  let proc: TestProcess;
  let base: string;
  let configDir: string;

  beforeAll(async () => {
    const dir = await tmpDir('start');
    configDir = join(dir, 'config');
    await cp(join(root, 'config/samples'), configDir, { recursive: true });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    proc = await startProcess({
      cmd: process.execPath,
      args: [join(root, 'proxy/src/main.ts')],
      cwd: dir,
      env: {
        ...process.env,
        ORCHARD_SERVER_HOST: '127.0.0.1',
        ORCHARD_SERVER_PORT: String(port),
        ORCHARD_CONFIG: configDir,
        ORCHARD_DATA_DIR: join(dir, 'data'),
      },
      readyWhen: /orchard proxy listening/,
      timeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await proc?.stop();
  });

  it('answers /health with 200', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /ready with 200 and per-dependency detail', async () => {
    const res = await fetch(`${base}/ready`);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; backend?: string }> };
    expect(res.status).toBe(200);
    expect(body.checks.database).toMatchObject({ ok: true, backend: 'pglite' });
    expect(body.checks.blob_store).toMatchObject({ ok: true, backend: 'fs' });
    expect(body.checks.coordinator).toMatchObject({ ok: true, backend: 'memory' });
    expect(body.checks.config.ok).toBe(true);
  });

  it('exposes orchard_ metrics and default process metrics', async () => {
    await fetch(`${base}/health`);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('orchard_http_requests_total{method="GET",route="/health",status="200"}');
    expect(text).toContain('orchard_http_request_duration_seconds_bucket');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('lists the sample remotes on / and in /config', async () => {
    const info = (await (await fetch(`${base}/`)).json()) as { remotes: { name: string; url: string }[] };
    expect(info.remotes.length).toBeGreaterThan(5);
    expect(info.remotes.every((r) => r.url.includes(`/api/v1/remote/${r.name}/`))).toBe(true);
    const cfg = await (await fetch(`${base}/config`)).json();
    expect(JSON.stringify(cfg)).toContain('"remotes"');
  });

  it('renders unknown routes and bad methods as JSON error codes with the request id', async () => {
    const res = await fetch(`${base}/no/such/route`, { headers: { 'x-request-id': 'req-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND', request_id: 'req-123' });
    const del = await fetch(`${base}/health`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(await del.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it('keeps the last good config when a broken file appears, and reports it on /ready', async () => {
    const before = (await (await fetch(`${base}/`)).json()) as { remotes: unknown[] };
    await writeFile(
      join(configDir, 'zz-broken.yaml'),
      'apiVersion: orchard.dev/v1alpha1\nkind: Remote\nmetadata: {name: bad\n',
    );
    try {
      let report: string | undefined;
      await waitUntil(
        async () => {
          const r = (await (await fetch(`${base}/ready`)).json()) as {
            checks: { config: { last_reload_error?: string } };
          };
          report = r.checks.config.last_reload_error;
          return report !== undefined;
        },
        { what: 'the reload failure to show on /ready', timeoutMs: 20_000 },
      );
      expect(report).toContain('zz-broken.yaml');
      const after = (await (await fetch(`${base}/`)).json()) as { remotes: unknown[] };
      expect(after.remotes.length).toBe(before.remotes.length);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/orchard_config_reload_failures_total [1-9]/);
    } finally {
      await rm(join(configDir, 'zz-broken.yaml'));
    }
  });

  it('stops gracefully on SIGTERM', async () => {
    process.kill(proc.pid, 'SIGTERM');
    const { code } = await proc.exited;
    expect(code).toBe(0);
  });
});
