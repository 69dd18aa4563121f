import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Run-as identity for a child; used to start PostgreSQL, which refuses to run as root. */
export interface RunAs {
  user: string;
}

export interface SpawnOptions {
  /** Short name used in messages ("postgres"). */
  name: string;
  cmd: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  runAs?: RunAs;
  /**
   * Own process group, so a Ctrl-C aimed at the test run does not reach the service
   * before the tests have finished with it. Default true.
   */
  detached?: boolean;
  /** Called with every complete output line (stdout and stderr). */
  onLine?: (line: string) => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process whose output is kept and which dies with its parent. */
export interface SpawnedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves once the process has exited. Never rejects. */
  readonly exited: Promise<Exit>;
  /** Rejects when the process exits; for racing against a readiness wait. */
  readonly died: Promise<never>;
  /** The last 64 KiB of combined stdout and stderr. */
  logs(): string;
  /**
   * Sends `signal` (default SIGTERM), then SIGKILL after graceMs (default 5000).
   * Resolves once the process has exited. Safe to call more than once and after exit.
   */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
}

const LOG_LIMIT = 64 * 1024;
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * Starts a child process. On Linux it is wrapped in `setpriv --pdeathsig KILL`, so it
 * is killed even when the parent dies without cleaning up (SIGKILL, OOM); `runAs`
 * switches user the same way. Throws only if the command cannot be executed at all.
 */
export function spawnProcess(opts: SpawnOptions): SpawnedProcess {
  const [cmd, args] = wrapCommand(opts);
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: opts.detached ?? true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (line: string) => {
    output += `${line}\n`;
    if (output.length > LOG_LIMIT) output = output.slice(-LOG_LIMIT);
    opts.onLine?.(line);
  };
  child.stdout?.on('data', lineSplitter(keep));
  child.stderr?.on('data', lineSplitter(keep));

  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (err) => {
      output += `spawn failed: ${err.message}\n`;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const died = exited.then((e): never => {
    throw new Error(`${opts.name} exited (${describeExit(e)}) before it was ready:\n${tail(output)}`);
  });
  died.catch(() => {});
  return {
    name: opts.name,
    pid: child.pid ?? -1,
    exited,
    died,
    logs: () => output,
    stop: (s) => stopChild(child, exited, s?.signal ?? 'SIGTERM', s?.graceMs ?? 5000),
  };
}

function wrapCommand(opts: SpawnOptions): [string, string[]] {
  const args = opts.args ?? [];
  if (!SETPRIV) {
    if (opts.runAs) throw new Error(`${opts.name}: running as ${opts.runAs.user} needs setpriv (util-linux)`);
    return [opts.cmd, args];
  }
  const user = opts.runAs ? ['--reuid', opts.runAs.user, '--regid', opts.runAs.user, '--init-groups'] : [];
  return [SETPRIV, [...user, '--pdeathsig', 'KILL', '--', opts.cmd, ...args]];
}

/**
 * `[cmd, args]` rewritten so the process receives `signal` when its parent dies
 * (Linux, via setpriv); unchanged where setpriv is missing.
 */
export function dieWithParent(cmd: string, args: string[], signal = 'KILL'): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', signal, '--', cmd, ...args]] : [cmd, args];
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<Exit>,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    await exited;
    return;
  }
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) onLine(p.replace(/\r$/, ''));
  };
}

export function describeExit(e: Exit): string {
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

/** The last `lines` lines of a log, indented, for error messages. */
export function tail(text: string, lines = 20): string {
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n');
}

/** Runs a command to completion; rejects with its output when it exits non-zero. */
export async function run(opts: SpawnOptions & { timeoutMs?: number }): Promise<string> {
  const p = spawnProcess({ ...opts, detached: opts.detached ?? false });
  const timer = setTimeout(() => p.stop({ signal: 'SIGKILL' }), opts.timeoutMs ?? 120_000);
  const exit = await p.exited;
  clearTimeout(timer);
  if (exit.code !== 0) {
    throw new Error(`${opts.name} failed (${describeExit(exit)}):\n${tail(p.logs())}`);
  }
  return p.logs();
}
