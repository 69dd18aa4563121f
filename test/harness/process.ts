import { waitUntil } from '../../hack/lib/net.ts';
import { spawnProcess } from '../../hack/lib/proc.ts';
import { type TestScope, whenTestEnds } from './scope.ts';

export interface StartProcessOptions {
  cmd: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Name for messages; defaults to the command's base name. */
  name?: string;
  /**
   * When the process counts as ready: a RegExp matched against each output line
   * (stdout or stderr), or an async probe polled until it returns true (a throw
   * counts as "not yet"). Absent: ready once spawned.
   */
  readyWhen?: RegExp | (() => Promise<boolean>);
  /** Readiness deadline, default 30 s. */
  timeoutMs?: number;
  /** The test context, in concurrent tests (see TestScope). */
  scope?: TestScope;
}

export interface TestProcess {
  readonly pid: number;
  /** The last 64 KiB of combined stdout and stderr. */
  logs(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
  /** Resolves with the exit status once it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a process and waits until it is ready. Rejects, with its output, if it exits
 * or times out first (it is killed then).
 *
 * Lifetime: started inside a test (or beforeEach), it is stopped when that test
 * finishes (concurrent tests pass their context as `scope`). Started in beforeAll, the caller stops it in afterAll. Either way it is
 * killed when the worker process dies (parent-death signal), so nothing outlives the run.
 */
export async function startProcess(opts: StartProcessOptions): Promise<TestProcess> {
  const name = opts.name ?? opts.cmd.split('/').pop() ?? opts.cmd;
  const pattern = opts.readyWhen instanceof RegExp ? opts.readyWhen : undefined;
  let sawPattern = false;
  const proc = spawnProcess({
    name,
    cmd: opts.cmd,
    args: opts.args,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    onLine: (line) => {
      if (pattern?.test(line)) sawPattern = true;
    },
  });
  // Outside a test the caller stops it (see the lifetime note above).
  whenTestEnds(() => proc.stop(), opts.scope);
  const probe = typeof opts.readyWhen === 'function' ? opts.readyWhen : async () => sawPattern;
  try {
    if (opts.readyWhen) {
      await waitUntil(probe, {
        what: `${name} to become ready`,
        timeoutMs: opts.timeoutMs ?? 30_000,
        abort: proc.died,
      });
    }
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL' });
    if (err instanceof Error && !err.message.includes(' exited ')) {
      err.message += `\n${name} output:\n${proc.logs()}`;
    }
    throw err;
  }
  return { pid: proc.pid, logs: proc.logs, stop: () => proc.stop(), exited: proc.exited };
}
