import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, type ExpectStatic, it } from 'vitest';
import { canConnect, type TestScope, tmpDir, waitUntil } from './index.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface RunnerRun {
  exit: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
  output(): string;
  /** The ORCHARD_TEST_* variables the fixture suite saw, once it has run. */
  seen(): Record<string, string> | undefined;
}

/** Runs `node hack/test.ts` on the fixture suite with no services inherited. */
async function runRunner(
  mode: 'pass' | 'fail' | 'hang',
  scope: TestScope,
  extraEnv: Record<string, string> = {},
): Promise<RunnerRun> {
  const out = join(await tmpDir('runner-', scope), 'seen.json');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ORCHARD_TEST_')));
  const child = spawn(
    process.execPath,
    ['hack/test.ts', '--config', 'test/harness/fixtures/vitest.config.ts'],
    {
      cwd: ROOT,
      env: { ...env, ...extraEnv, FIXTURE_MODE: mode, FIXTURE_OUT: out },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    exit,
    signal: (sig) => child.kill(sig),
    output: () => output,
    seen: () => (existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined),
  };
}

/** Every service the runner started is gone: ports closed, ORCHARD_TEST_TMP removed. */
async function expectCleanedUp(expect: ExpectStatic, seen: Record<string, string>): Promise<void> {
  for (const key of ['ORCHARD_TEST_DATABASE_URL', 'ORCHARD_TEST_REDIS_URL', 'ORCHARD_TEST_S3_ENDPOINT']) {
    expect(await canConnect(Number(new URL(seen[key]).port)), `${key} still answers`).toBe(false);
  }
  expect(existsSync(seen.ORCHARD_TEST_TMP)).toBe(false);
}

// Concurrent: each case is mostly waiting for a nested runner's services and vitest.
describe.concurrent('hack/test.ts', () => {
  it.for([
    ['pass', 0],
    ['fail', 1],
  ] as const)(
    'gives a %sing suite all service variables, exits %i and stops the services',
    async ([mode, code], { expect, onTestFinished }) => {
      const run = await runRunner(mode, { onTestFinished });
      expect(await run.exit, run.output()).toBe(code);
      const seen = run.seen()!;
      expect(Object.keys(seen).sort()).toEqual([
        'ORCHARD_TEST_DATABASE_URL',
        'ORCHARD_TEST_REDIS_URL',
        'ORCHARD_TEST_S3_ACCESS_KEY_ID',
        'ORCHARD_TEST_S3_BUCKET',
        'ORCHARD_TEST_S3_ENDPOINT',
        'ORCHARD_TEST_S3_SECRET_ACCESS_KEY',
        'ORCHARD_TEST_TMP',
      ]);
      expect(run.output()).toMatch(/postgres ready in .* ms/);
      expect(run.output()).toMatch(/total \d+\.\d s, exit code \d/);
      await expectCleanedUp(expect, seen);
    },
  );

  it('stops vitest and the services on SIGTERM', async ({ expect, onTestFinished }) => {
    const run = await runRunner('hang', { onTestFinished });
    await waitUntil(async () => run.seen() !== undefined, {
      what: 'the fixture suite to start',
      timeoutMs: 30_000,
    });
    run.signal('SIGTERM');
    const code = await run.exit;
    expect(code, run.output()).not.toBe(0);
    await expectCleanedUp(expect, run.seen()!);
  });

  it('stops a hung run at ORCHARD_TEST_TIMEOUT with exit code 124', async ({ expect, onTestFinished }) => {
    const run = await runRunner('hang', { onTestFinished }, { ORCHARD_TEST_TIMEOUT: '8' });
    const code = await run.exit;
    expect(code, run.output()).toBe(124);
    expect(run.output()).toMatch(/ORCHARD_TEST_TIMEOUT of 8 s reached/);
    await expectCleanedUp(expect, run.seen()!);
  });
});
