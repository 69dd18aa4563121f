/**
 * `npm test`: checks the Debian packages the suites need (installing them as root),
 * starts PostgreSQL, Redis and the S3 server on free loopback ports, runs vitest with
 * their ORCHARD_TEST_* variables, and stops everything afterwards, also on failure,
 * SIGINT and SIGTERM. Extra arguments go to `vitest run` (`npm test -- proxy/src/storage`).
 * Exits with vitest's exit code, or 124 when the run exceeds ORCHARD_TEST_TIMEOUT
 * seconds (default 1800). See docs/testing.md.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensurePackages } from './lib/packages.ts';
import { dieWithParent } from './lib/proc.ts';
import { SERVICE_NAMES, type Services, startServices } from './services/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const started = Date.now();

function log(msg: string): void {
  process.stderr.write(`[test] ${msg}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

let stopRequested: NodeJS.Signals | undefined;
let forwardSignal: ((sig: NodeJS.Signals) => void) | undefined;

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (stopRequested) {
      // Second signal: leave now. Services die with us (parent-death signal).
      process.exit(128 + constants.signals[sig]);
    }
    stopRequested = sig;
    log(`${sig}: stopping`);
    forwardSignal?.(sig);
  });
}

async function main(args: string[]): Promise<number> {
  const pkgStart = Date.now();
  const installed = await ensurePackages(log);
  if (installed.length) log(`package check and install took ${seconds(Date.now() - pkgStart)}`);

  const tmp = await mkdtemp(join(tmpdir(), 'orchard-test-'));
  // Suites may run services as other users (PostgreSQL as postgres) under this dir.
  await chmod(tmp, 0o755);
  let services: Services | undefined;
  try {
    const svcStart = Date.now();
    services = await startServices(SERVICE_NAMES, { log: (m) => log(m), reuse: process.env });
    log(`services ready in ${seconds(Date.now() - svcStart)}`);
    if (stopRequested) return 128 + constants.signals[stopRequested];
    return await runVitest(args, { ...process.env, ...services.env, ORCHARD_TEST_TMP: tmp });
  } finally {
    await services?.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Whole-run limit in seconds (ORCHARD_TEST_TIMEOUT, 0 = none); a hung suite must not hang CI. */
const RUN_LIMIT_S = Number(process.env.ORCHARD_TEST_TIMEOUT ?? 1800);
/** Exit code when the run limit is hit, as timeout(1) uses. */
const TIMED_OUT = 124;

function runVitest(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [cmd, argv] = dieWithParent(process.execPath, [VITEST, 'run', ...args], 'TERM');
  // Own process group, so a stop reaches vitest's workers too and Ctrl-C arrives once (forwarded).
  const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: 'inherit', detached: true });
  const terminate = (sig: NodeJS.Signals) => {
    killGroup(child.pid, sig);
    setTimeout(() => killGroup(child.pid, 'SIGKILL'), 15_000).unref();
  };
  forwardSignal = terminate;
  let timedOut = false;
  const limit =
    RUN_LIMIT_S > 0
      ? setTimeout(() => {
          timedOut = true;
          log(`ORCHARD_TEST_TIMEOUT of ${RUN_LIMIT_S} s reached: stopping vitest`);
          terminate('SIGTERM');
        }, RUN_LIMIT_S * 1000)
      : undefined;
  return new Promise((resolveExit) => {
    child.once('error', (err) => {
      log(`could not start vitest: ${err.message}`);
      resolveExit(1);
    });
    child.once('exit', (code, signal) => {
      forwardSignal = undefined;
      clearTimeout(limit);
      // The run's exit code: 124 when our limit stopped it (as timeout(1) says),
      // 128 + N when a signal N ended vitest (the shell's convention), else vitest's own.
      if (timedOut) resolveExit(TIMED_OUT);
      else resolveExit(signal ? 128 + constants.signals[signal] : (code ?? 1));
    });
  });
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    log(`total ${seconds(Date.now() - started)}, exit code ${code}`);
    process.exit(code);
  },
  (err: unknown) => {
    log(err instanceof Error ? err.message : String(err));
    log(`total ${seconds(Date.now() - started)}, failed before or outside the tests`);
    process.exit(1);
  },
);
