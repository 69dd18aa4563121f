import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a client command asynchronously (the proxy under test runs in this very
 * process, so a synchronous child would deadlock it), bounded in time.
 * Never throws for a non-zero exit: the caller asserts on `code`.
 */
export function runClient(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The environment for an npm child: without the npm_config_* variables that
 * `npm test` exports to its children, which would override the child's own
 * --userconfig (and with it the registry and lockfile settings under test).
 */
export function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')),
  );
}

/** pip, isolated from the machine's pip config (extra indexes, find-links) so it can only use our index. */
export function pip(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_NO_INPUT: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
  };
  delete env.PIP_FIND_LINKS;
  delete env.PIP_INDEX_URL;
  delete env.PIP_EXTRA_INDEX_URL;
  return runClient(
    'python3',
    ['-m', 'pip', ...args.slice(0, 1), '--isolated', '--no-cache-dir', ...args.slice(1)],
    { env, ...opts },
  );
}

/** Describe a client run for an assertion message. */
export function describeRun(r: RunResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

/**
 * GET a URL with its path sent exactly as written: fetch() would normalize
 * `%2e%2e` into `..` and resolve it before the request leaves, so traversal
 * attempts need a raw request to reach the proxy at all.
 */
export function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const u = new URL(url.replace(/^(https?:\/\/[^/]+).*$/, '$1'));
  const path = url.slice(u.origin.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
